#!/usr/bin/env python3
# Writes the observed.json INPUT of each golden case (what the Docker driver
# would read from a host in that situation), so that the fixtures stay
# consistent with one another. It never writes expected.txt: those are
# written by hand. Run from anywhere: python3 tests/golden/make-observed.py
import json, os, copy
V0="0f0e0d0c0b0a09080706050403020100aabbccdd"
V1="1a2b3c4d5e6f708192a3b4c5d6e7f80912345678"
V2="3f4e5d6c7b8a99887766554433221100ffeeddcc"
H={"web":"ac0d56e3dec8074a77bf676bc9d042082825dd3d3b906ab36ff68437024920d4",
   "worker":"5cdba0a9c3a2b7b628fa75a1d1f43a8883dea64ff26335e993b32279b6ae270e",
   "db":"23716e96d0894ade73bf512fec7a0855288ddf0e0d7ade4aaed7a45b11689da3"}
ENV_APP="78d72eb12fb81469a3338b49eb45d8086ccb744c639d87406a1db23f0b6da32f"
ENV_DB="80db15b275500380649e03e8d700c930fcef1ce9079617ebea2959dbe2ae9415"
CREATED="2026-11-25T08:00:00Z"

def app(role, version=V1, labelled=True, state="running", finished=None, created=CREATED, host="10.0.0.1"):
    name=f"shop-{role}-{version}"
    labels={"service":"shop","role":role,"destination":"",
            "org.opencontainers.image.source":"https://github.com/acme/shop"}
    if labelled: labels["kreconcile.defhash"]=H[role]
    env={"KAMAL_CONTAINER_NAME":name,"KAMAL_VERSION":version,"KAMAL_HOST":host,
         "RAILS_ENV":"production","DATABASE_URL":"(sensitive)",
         "PATH":"/usr/local/bundle/bin:/usr/local/bin:/usr/bin:/bin","RUBY_VERSION":"3.3.5"}
    return {"id":f"{role}{version[:8]}c0ffee","name":name,"image":f"ghcr.io/acme/shop:{version}",
        "image_id":"sha256:"+version[:8]*8,"repo_digests":[f"ghcr.io/acme/shop@sha256:{version[:8]*8}"],
        "labels":labels,"env":env,
        "cmd":"bin/jobs" if role=="worker" else "./bin/thrust ./bin/rails server",
        "mounts":[],"ports":[],"networks":["kamal"],"restart":"unless-stopped",
        "log_driver":"json-file","log_opts":{"max-size":"10m"},
        "state":state,"health":None,"exit_code":0 if state=="running" else 1,
        "created":created,"started":created,"finished":finished}

def db(image="postgres:16", labelled=True, state="running", finished=None):
    labels={"service":"shop-db"}
    if labelled: labels["kreconcile.defhash"]=H["db"]
    return {"id":"db0000c0ffee","name":"shop-db","image":image,"image_id":"sha256:"+"d"*64,
        "repo_digests":[],"labels":labels,
        "env":{"KAMAL_HOST":"10.0.0.1","POSTGRES_USER":"shop","POSTGRES_PASSWORD":"(sensitive)",
               "PATH":"/usr/lib/postgresql/16/bin:/usr/bin:/bin","PGDATA":"/var/lib/postgresql/data",
               "PG_VERSION":"16.4"},
        "cmd":"postgres",
        "mounts":[{"type":"bind","source":"/root/shop-db/data","destination":"/var/lib/postgresql/data","mode":"","rw":True}],
        "ports":["127.0.0.1:5432:5432/tcp"],"networks":["kamal"],"restart":"unless-stopped",
        "log_driver":"json-file","log_opts":{"max-size":"10m"},
        "state":state,"health":None,"exit_code":0,"created":CREATED,"started":CREATED,"finished":finished}

def proxy():
    return {"id":"proxyc0ffee","name":"kamal-proxy","image":"basecamp/kamal-proxy:v0.9.2",
        "labels":{"org.opencontainers.image.title":"kamal-proxy"},"env":{"PATH":"/usr/bin:/bin"},
        "cmd":"kamal-proxy run","mounts":[{"type":"volume","source":"/var/lib/docker/volumes/kamal-proxy-config/_data","destination":"/home/kamal-proxy/.config/kamal-proxy","mode":"z","rw":True}],
        "ports":["0.0.0.0:80:80/tcp","[::]:80:80/tcp","0.0.0.0:443:443/tcp","[::]:443:443/tcp"],
        "networks":["kamal"],"restart":"unless-stopped","log_driver":"json-file","log_opts":{"max-size":"10m"},
        "state":"running","created":CREATED,"started":CREATED}

def envfile(path, sha, keys):
    return {"path":path,"kind":"env","mode":"600","sha256":sha,"keys":keys}

def files(roles=("web","worker"), app_sha=ENV_APP):
    f=[envfile(".kamal/apps/shop/env/accessories/db.env",ENV_DB,["POSTGRES_PASSWORD"])]
    for r in roles:
        f.append(envfile(f".kamal/apps/shop/env/roles/{r}.env",app_sha,["DATABASE_URL"]))
    f.append({"path":"shop-db","kind":"dir","mode":"755"})
    f.append({"path":"shop-db/data","kind":"dir","mode":"700"})
    return f

def route(service, target, **kw):
    # a route as Kamal 2.12 deploys it with no proxy options (kamal-proxy's
    # defaults, Kamal's buffering and log headers), as the driver reads it
    r={"service":service,"targets":[target],"hosts":[],"path_prefixes":["/"],
       "tls":False,"tls_redirect":True,"strip_prefix":True,"forward_headers":True,
       "buffer_requests":True,"buffer_responses":True,"buffer_memory":1048576,
       "max_request_body":0,"max_response_body":0,"health_check_path":"/up",
       "health_check_interval_ms":1000,"health_check_timeout_ms":5000,
       "response_timeout_ms":30000,
       "log_request_headers":["Cache-Control","Last-Modified","User-Agent"],
       "log_response_headers":[]}
    r.update(kw)
    return r

def host(name, containers, fs, networks=("bridge","host","kamal","none"), status="ok", error=None,
         routes=None):
    h={"format_version":1,"name":name,"status":status,"error":error,
       "observed_at":"2026-11-26T08:00:00Z","docker_version":"27.3.1" if status=="ok" else None,
       "networks":list(networks),"containers":containers,"files":fs,
       "lock":{"held":False,"details":None}}
    # A host running a web container runs kamal-proxy routing to it, as Kamal leaves it
    # (routes=None: the running web containers'; [] for a proxy without routes).
    webs=[c for c in containers if c.get("labels",{}).get("role")=="web" and c["state"]=="running"]
    if status=="ok" and webs:
        if not any(c["name"]=="kamal-proxy" for c in containers):
            containers.insert(0, proxy())
        if routes is None:
            routes=[]
            for c in webs:
                dest=c["labels"].get("destination","")
                routes.append(route("shop-web"+("-"+dest if dest else ""), c["id"][:12]+":80"))
        h["proxy"]={"version":"v0.9.2","running":True,"routes_known":True,
                    "routes":sorted(routes,key=lambda r:r["service"])}
    return h

def write(case, hosts):
    os.makedirs(case, exist_ok=True)
    with open(os.path.join(case,"observed.json"),"w") as f:
        json.dump(hosts, f, indent=2); f.write("\n")

os.chdir(os.path.dirname(os.path.abspath(__file__)))
write("fresh-host", [host("10.0.0.1", [], [], networks=("bridge","host","none"))])
write("no-change-labelled", [host("10.0.0.1", [db(), app("web"), app("worker")], files())])
write("no-change-kamal", [host("10.0.0.1", [proxy(), db(labelled=False),
    app("web", version=V0, labelled=False, state="exited", finished="2026-11-25T08:01:00Z", created="2026-11-24T08:00:00Z"),
    app("web", labelled=False), app("worker", labelled=False)], files())])
write("version-change", [host("10.0.0.1", [db(), app("web"), app("worker")], files())])
write("env-only-change", [host("10.0.0.1", [db(), app("web"), app("worker")], files())])
write("accessory-image-change", [host("10.0.0.1", [proxy(), db(image="postgres:15", labelled=False), app("web", labelled=False), app("worker", labelled=False)], files())])
write("stopped-accessory", [host("10.0.0.1", [db(state="exited", finished="2026-11-26T07:58:00Z"), app("web"), app("worker")], files())])
write("exited-app-drift", [host("10.0.0.1", [proxy(), db(labelled=False), app("web", labelled=False, state="exited", finished="2026-11-26T07:55:00Z"), app("worker", labelled=False)], files())])
write("removed-role", [host("10.0.0.1", [db(), app("web"), app("worker")], files())])
write("removed-role-prune", [host("10.0.0.1", [db(), app("web"), app("worker")], files())])
write("waiting-for-image", [host("10.0.0.1", [db(), app("web"), app("worker")], files())])
write("unreachable-host", [host("10.0.0.1", [db(), app("web"), app("worker")], files()),
    host("10.0.0.2", [], [], networks=(), status="unreachable", error="ssh: connect to host 10.0.0.2 port 22: No route to host")])
write("removed-host", [host("10.0.0.1", [db(), app("web"), app("worker")], files()),
    host("10.0.0.3", [app("web", labelled=False, host="10.0.0.3")],
         [envfile(".kamal/apps/shop/env/roles/web.env", ENV_APP, ["DATABASE_URL"])])])
# kamal-proxy older than Kamal 2.12's minimum, its route made before the proxy settings changed.
old_proxy = proxy()
old_proxy["image"] = "basecamp/kamal-proxy:v0.8.7"
rc = host("10.0.0.1", [old_proxy, db(), app("web"), app("worker")], files(),
    routes=[route("shop-web", "web1a2b3c4dc:80", hosts=["old.example.com"])])
rc["proxy"]["version"] = "v0.8.7"
write("route-change", [rc])
def dest_app(role, version=V1):
    a = app(role, version=version, labelled=False)
    a["name"] = f"shop-{role}-staging-{version}"
    a["id"] = "s" + a["id"]
    a["labels"]["destination"] = "staging"
    a["env"]["KAMAL_CONTAINER_NAME"] = a["name"]
    a["env"]["KAMAL_DESTINATION"] = "staging"
    a["env"]["RAILS_ENV"] = "staging"
    return a
def dest_files():
    f=[envfile(".kamal/apps/shop-staging/env/accessories/db.env",ENV_DB,["POSTGRES_PASSWORD"])]
    for r in ("web","worker"):
        f.append(envfile(f".kamal/apps/shop-staging/env/roles/{r}.env",ENV_APP,["DATABASE_URL"]))
    # the production deployment's files on the same host
    f.append(envfile(".kamal/apps/shop/env/roles/web.env","9"*64,["DATABASE_URL"]))
    f.append({"path":"shop-db","kind":"dir","mode":"755"})
    f.append({"path":"shop-db/data","kind":"dir","mode":"700"})
    return f
write("destination-no-change-kamal", [host("10.0.0.1", [db(labelled=False),
    dest_app("web"), dest_app("worker"), app("web", version=V0, labelled=False)], dest_files())])
