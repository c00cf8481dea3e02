-- bench/http/post.lua - wrk script of the HTTP benchmark: POST the file
-- named by the BODY environment variable (none: an empty body) and, at the
-- end, print one JSON line (prefixed "WRKJSON ") with the rate, latency
-- percentiles (microseconds) and every error count.
local path = os.getenv("BODY")
local body = ""
if path and path ~= "" then
	local f = assert(io.open(path, "rb"))
	body = f:read("*a")
	f:close()
end
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/octet-stream"

function done(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	io.write(string.format(
		'WRKJSON {"requests":%d,"secs":%.6f,"rps":%.2f,"bytes":%d,' ..
		'"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
		'"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
		summary.requests, secs, summary.requests / secs, summary.bytes,
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		latency.max, latency.mean,
		e.connect, e.read, e.write, e.status, e.timeout))
end
