"""HTTP as motobox serves and forwards it: the cloud's keep-alive server, the framing of
request and answer bodies, ``aws-chunked`` uploads."""
