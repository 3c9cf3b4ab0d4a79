-- wrk script: PUT a 4 KiB body on every request.
wrk.method = "PUT"
wrk.body = string.rep("x", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
