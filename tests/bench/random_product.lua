-- wrk script: GET {prefix}{id} for a random listing id in 1..N, N from the first argument
-- and the prefix from the second: /api/v1/products/ (the JSON detail, the default) or /p/
-- (the product page).
local n = 10000
local prefix = "/api/v1/products/"
function init(args)
  if args[1] then n = tonumber(args[1]) end
  if args[2] then prefix = args[2] end
end
request = function()
  return wrk.format("GET", prefix .. math.random(1, n))
end
