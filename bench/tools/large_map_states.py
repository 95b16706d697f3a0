"""Three states with a 1 MiB config value: v1; v1 with an env change (map unchanged); the map changed."""
import json, sys, random, string
s = json.load(open(sys.argv[1]))
random.seed(1)
big = ''.join(random.choice(string.ascii_letters + string.digits + ' \n') for _ in range(1 << 20))
s["configMaps"]["shop-config"]["big.txt"] = big
json.dump(s, open(sys.argv[2], "w"))
s["containers"][0]["env"][0]["value"] = "other"
json.dump(s, open(sys.argv[3], "w"))
s["configMaps"]["shop-config"]["big.txt"] = big[:-10] + "0123456789"
json.dump(s, open(sys.argv[4], "w"))
