-- bench/mail_receive.lua — wrk script: POST /v1/mail, the desk signs for a registered
-- letter for a resident who is out (a new register item and its first, hash-chained
-- `receive` entry in one transaction), on one of the units given (chosen at random).
--
--   wrk ... -s bench/mail_receive.lua URL -- TOKEN PROJECT_ID UNIT_ID1,UNIT_ID2,...
local hdrs, project
local units = {}
local seq = 0
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

init = function(args)
  local token = args[1] or error("usage: -- TOKEN PROJECT_ID UNIT_IDS")
  project = args[2] or error("usage: -- TOKEN PROJECT_ID UNIT_IDS")
  for id in string.gmatch(args[3] or "", "[^,]+") do units[#units + 1] = id end
  if #units == 0 then error("no unit ids") end
  hdrs = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  math.randomseed(os.time() * 100 + (tid or 0))
end

request = function()
  seq = seq + 1
  local body = string.format('{"project_id":"%s","kind":"registered_letter","unit_id":"%s",' ..
    '"recipient_name":"王先生","mail_number":"XA%d%08d","sender_location":"北京市海淀区",' ..
    '"count":1,"resident_out":true,"location":"收发室 A 柜"}',
    project, units[math.random(1, #units)], tid or 0, seq)
  return wrk.format("POST", "/v1/mail", hdrs, body)
end

response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
