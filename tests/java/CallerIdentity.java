// sts GetCallerIdentity on the JDK's own HttpClient, signed with SigV4 as every AWS SDK signs:
// a Java program with no AWS SDK (Maven Central is out of reach) and no endpoint setting.
// Run as `java CallerIdentity.java` (source-file mode, JDK 11+); prints "account ID" and "arn ARN".
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class CallerIdentity {
    static final String HOST = "sts.amazonaws.com";
    static final String REGION = "us-east-1";
    static final String TYPE = "application/x-www-form-urlencoded; charset=utf-8";

    public static void main(String[] args) throws Exception {
        String body = "Action=GetCallerIdentity&Version=2011-06-15";
        String keyId = System.getenv("AWS_ACCESS_KEY_ID");
        String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        String amzDate = now.format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
        String day = amzDate.substring(0, 8);
        String scope = day + "/" + REGION + "/sts/aws4_request";
        String signedHeaders = "content-type;host;x-amz-date";
        String canonical = "POST\n/\n\ncontent-type:" + TYPE + "\nhost:" + HOST + "\nx-amz-date:"
                + amzDate + "\n\n" + signedHeaders + "\n" + hex(sha256(body));
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical));
        byte[] key = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), day);
        for (String part : new String[] {REGION, "sts", "aws4_request"}) key = hmac(key, part);
        String authorization = "AWS4-HMAC-SHA256 Credential=" + keyId + "/" + scope
                + ", SignedHeaders=" + signedHeaders + ", Signature=" + hex(hmac(key, toSign));

        HttpRequest request = HttpRequest.newBuilder(URI.create("https://" + HOST + "/"))
                .header("Content-Type", TYPE)
                .header("X-Amz-Date", amzDate)
                .header("Authorization", authorization)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println("status " + response.statusCode());
        for (String field : new String[] {"Account", "Arn"}) {
            Matcher m = Pattern.compile("<" + field + ">([^<]*)</" + field + ">").matcher(response.body());
            System.out.println(field.toLowerCase() + " " + (m.find() ? m.group(1) : "(none)"));
        }
    }

    static byte[] sha256(String text) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] hmac(byte[] key, String text) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
