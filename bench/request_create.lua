-- bench/request_create.lua — wrk script: POST /v1/requests (one repair request per call)
-- as a logged-in staff user, rotating over N deterministic unit ids.
--
--   wrk ... -s bench/request_create.lua URL -- TOKEN UNITS UUID_PREFIX
--
-- Unit n has id UUID_PREFIX .. <n zero-padded to 12 digits> (see bench_requests.sh).
local token, nunits, prefix
local hdrs
local seq = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  token = args[1] or error("usage: -- TOKEN UNITS UUID_PREFIX")
  nunits = tonumber(args[2] or "10000")
  prefix = args[3] or "00000000-0000-4000-8000-"
  hdrs = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  math.randomseed(os.time() * 100 + (tid or 0))
end

local descriptions = {
  "厨房漏水，水从楼上天花板滴下，请尽快派师傅上门查看",
  "卫生间下水道堵塞，已经两天无法正常使用",
  "客厅灯具不亮，开关无反应，疑似线路故障",
  "阳台推拉门轨道损坏，门无法关闭",
  "热水器漏水，地面有积水，请安排维修",
}

request = function()
  seq = seq + 1
  local n = math.random(1, nunits)
  local body = string.format(
    '{"type":"repair","channel":"phone","location":{"unit_id":"%s%012d"},'
      .. '"reporter":{"name":"王先生","phone":"13800000000"},'
      .. '"description":"%s（%d-%d）"}',
    prefix, n, descriptions[1 + (n % #descriptions)], tid or 0, seq)
  return wrk.format("POST", "/v1/requests", hdrs, body)
end
