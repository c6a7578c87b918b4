def handler(event, context):
    return {"hello": "from a zip taskcat built"}
