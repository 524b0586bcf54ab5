-- wrk script: GET /api/v1/products/{id} for a random listing id in 1..N (N from the first argument).
local n = 10000
function init(args) if args[1] then n = tonumber(args[1]) end end
request = function()
  return wrk.format("GET", "/api/v1/products/" .. math.random(1, n))
end
