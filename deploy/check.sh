#!/usr/bin/env bash
# Offline checks of the deployment files in deploy/: no network, no Docker
# daemon, no cluster. Each check needing a tool that is not installed
# (python3 with PyYAML, systemd-analyze) is reported as skipped, not failed.
# Exits non-zero when any check fails; the last line is the tally.
set -uo pipefail

deploy=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$deploy")

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
skip() { skipped=$((skipped + 1)); printf 'skip  %s\n' "$*"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------- Dockerfile
check_dockerfile() {
	local df=$deploy/Dockerfile
	if [[ ! -f $df ]]; then
		fail "Dockerfile: $df missing"
		return
	fi
	# Join continuation lines so each instruction is one line, then drop comments.
	local flat=$tmp/Dockerfile.flat
	awk '
		/^[[:space:]]*#/ && cont == "" { next }
		{ line = cont $0 }
		/\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); cont = line " "; next }
		{ cont = ""; print line }
	' "$df" >"$flat"

	local froms
	froms=$(grep -ciE '^[[:space:]]*FROM[[:space:]]' "$flat")
	if ((froms >= 2)); then
		pass "Dockerfile: multi-stage ($froms FROM lines)"
	else
		fail "Dockerfile: want a build stage and a final stage, found $froms FROM lines"
	fi

	# Base images must name a tag or digest, and not :latest.
	local bad_from
	bad_from=$(awk 'toupper($1) == "FROM" {
			img = ""
			for (i = 2; i <= NF; i++) if ($i !~ /^--/) { img = $i; break }
			if (img == "scratch" || img ~ /^\$/) next
			if (img ~ /@sha256:/) next
			n = split(img, parts, "/"); last = parts[n]
			if (last !~ /:/ || last ~ /:latest$/) print img
		}' "$flat")
	if [[ -z $bad_from ]]; then
		pass "Dockerfile: base images are tagged, none :latest"
	else
		fail "Dockerfile: untagged or :latest base image: $bad_from"
	fi

	# The last USER after the last FROM decides who the container runs as.
	local final_user
	final_user=$(awk 'toupper($1) == "FROM" { user = "" } toupper($1) == "USER" { user = $2 } END { print user }' "$flat")
	case ${final_user%%:*} in
	'') fail "Dockerfile: final stage sets no USER (it would run as root)" ;;
	root | 0) fail "Dockerfile: final stage runs as $final_user" ;;
	*) pass "Dockerfile: final stage runs as non-root user $final_user" ;;
	esac

	if grep -qiE '^[[:space:]]*ADD[[:space:]].*(https?|ftp)://' "$flat"; then
		fail "Dockerfile: ADD of a URL (fetch in a RUN step with a checksum instead)"
	else
		pass "Dockerfile: no ADD of URLs"
	fi

	# COPY --from must name an earlier stage (or an image reference).
	local stages missing=
	stages=$(awk 'toupper($1) == "FROM" { for (i = 1; i < NF; i++) if (toupper($i) == "AS") print $(i + 1) }' "$flat")
	local ref
	for ref in $(grep -oiE -- '--from=[^[:space:]]+' "$flat" | cut -d= -f2); do
		if [[ $ref != *[/:]* ]] && ! grep -qxF -- "$ref" <<<"$stages"; then
			missing+=" $ref"
		fi
	done
	if [[ -z $missing ]]; then
		pass "Dockerfile: every COPY --from names a stage"
	else
		fail "Dockerfile: COPY --from of unknown stage(s):$missing"
	fi

	local build
	build=$(grep -iE '^[[:space:]]*RUN[[:space:]].*go build' "$flat")
	if [[ $build == *CGO_ENABLED=0* && $build == *-trimpath* && $build == *'-s -w'* ]]; then
		pass "Dockerfile: static, trimmed build (CGO_ENABLED=0, -trimpath, -s -w)"
	else
		fail "Dockerfile: go build must use CGO_ENABLED=0, -trimpath and -ldflags \"-s -w\""
	fi
	local pkg
	pkg=$(grep -oE '\./cmd/[A-Za-z0-9_/-]+' <<<"$build" | head -n1)
	if [[ -n $pkg && -d $root/$pkg ]]; then
		pass "Dockerfile: builds $pkg, which exists"
	else
		fail "Dockerfile: the go build target ${pkg:-(none)} is not a directory of the repository"
	fi

	if grep -qE '^[[:space:]]*EXPOSE[[:space:]]+8080' "$flat" && grep -qE 'HTTP_ADDR=0\.0\.0\.0:8080' "$flat"; then
		pass "Dockerfile: listens on 0.0.0.0:8080 and exposes 8080"
	else
		fail "Dockerfile: want ENV HTTP_ADDR=0.0.0.0:8080 and EXPOSE 8080 (127.0.0.1 is unreachable in a container)"
	fi
}

# ---------------------------------------------------------------- systemd
# Directives whose removal would silently weaken the unit.
unit_required=(
	'DynamicUser=yes'
	'StateDirectory=bulletinbot'
	'NoNewPrivileges=yes'
	'ProtectSystem=strict'
	'ProtectHome=yes'
	'PrivateTmp=yes'
	'PrivateDevices=yes'
	'CapabilityBoundingSet='
	'SystemCallFilter=@system-service'
	'SystemCallArchitectures=native'
	'MemoryDenyWriteExecute=yes'
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
	'LoadCredential=telegram-token:/etc/bulletinbot/token'
	'Restart=on-failure'
)

check_systemd() {
	local unit=$deploy/systemd/bulletinbot.service
	if [[ ! -f $unit ]]; then
		fail "systemd: $unit missing"
		return
	fi
	local d missing=
	for d in "${unit_required[@]}"; do
		grep -qxF -- "$d" "$unit" || missing+=" '$d'"
	done
	if [[ -z $missing ]]; then
		pass "systemd: hardening directives present (${#unit_required[@]})"
	else
		fail "systemd: missing directive(s):$missing"
	fi

	# Longer than systemd's stop timeout would be pointless; shorter cuts the drain.
	local stop
	stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")
	if [[ -n $stop ]] && ((stop >= 30)); then
		pass "systemd: TimeoutStopSec=$stop leaves time to drain sends"
	else
		fail "systemd: want TimeoutStopSec of at least 30 (seconds), got '${stop}'"
	fi

	if ! command -v systemd-analyze >/dev/null 2>&1; then
		skip "systemd: systemd-analyze not installed; unit syntax not verified"
		return
	fi
	# verify checks that ExecStart exists, and the binary is not installed
	# here: check a copy that runs /bin/true instead.
	mkdir -p "$tmp/unit"
	local copy=$tmp/unit/bulletinbot.service
	sed 's#^ExecStart=.*#ExecStart=/bin/true#' "$unit" >"$copy"
	local out rc=0
	out=$(systemd-analyze verify --man=no "$copy" 2>&1) || rc=$?
	# Lines "<file>:<line>: ..." are about our file's syntax (unknown keys,
	# unparsable values), and systemd only warns about them. Lines about
	# other units (targets missing on a build machine) are not our problem.
	local ours
	ours=$(grep -E "^$copy:[0-9]+:|^bulletinbot\.service: " <<<"$out")
	if [[ -n $ours || $rc -ne 0 ]]; then
		fail "systemd: systemd-analyze verify (exit $rc):"
		printf '      %s\n' "${out//$'\n'/$'\n'      }"
	else
		pass "systemd: systemd-analyze verify"
		if [[ -n $out ]]; then
			printf '      (about other units, ignored) %s\n' "${out//$'\n'/$'\n'      }"
		fi
	fi

	# Needs systemd 250 or later for --offline.
	local sec score
	if sec=$(systemd-analyze security --offline=yes --no-pager "$copy" 2>/dev/null); then
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$sec")
		if [[ -z $score ]]; then
			skip "systemd: could not read the exposure level from systemd-analyze security"
		elif awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
			pass "systemd: exposure level $score (at most 3.0)"
		else
			fail "systemd: exposure level $score, want at most 3.0 (systemd-analyze security --offline=yes)"
		fi
	else
		skip "systemd: systemd-analyze security --offline unsupported here"
	fi
}

# ---------------------------------------------------------------- .env.example
# Every setting of the program, as documented in the README.
settings=(
	TELEGRAM_BOT_TOKEN TELEGRAM_BOT_TOKEN_FILE TELEGRAM_API_ENDPOINT REDIS_URL
	DATA_DIR SOURCES POLL_INTERVAL ADMIN_IDS HTTP_ADDR SEND_RATE
	WEBHOOK_URL WEBHOOK_SECRET CONFIG_FILE LOG_LEVEL LOG_FORMAT
)

check_env_example() {
	local env=$deploy/.env.example
	if [[ ! -f $env ]]; then
		fail ".env.example: $env missing"
		return
	fi
	local s missing=
	for s in "${settings[@]}"; do
		grep -qE "^#?$s=" "$env" || missing+=" $s"
	done
	if [[ -z $missing ]]; then
		pass ".env.example: lists all ${#settings[@]} settings"
	else
		fail ".env.example: missing setting(s):$missing"
	fi
	# Both compose and systemd read KEY=value; anything else is read differently.
	local odd
	odd=$(grep -nvE '^[[:space:]]*$|^#|^[A-Z][A-Z0-9_]*=[^[:space:]"'\'']*$' "$env")
	if [[ -z $odd ]]; then
		pass ".env.example: only comments and plain KEY=value lines"
	else
		fail ".env.example: lines compose and systemd may read differently: ${odd//$'\n'/; }"
	fi
}

# ---------------------------------------------------------------- secrets
check_no_tokens() {
	local files
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# Tracked and new files; ignored ones (a real deploy/.env) are the
		# operator's own business.
		files=$(git -C "$root" ls-files --cached --others --exclude-standard -- deploy | sed "s#^#$root/#")
	else
		files=$(find "$deploy" -type f ! -name .env)
	fi
	local hits=
	if [[ -n $files ]]; then
		# A Telegram bot token: the bot id, a colon, 35 url-safe characters.
		hits=$(xargs -d '\n' grep -lE '[0-9]{8,10}:[A-Za-z0-9_-]{35}' <<<"$files" 2>/dev/null)
	fi
	if [[ -z $hits ]]; then
		pass "secrets: no bot token in deploy/"
	else
		fail "secrets: something shaped like a bot token in: ${hits//$'\n'/ }"
	fi
}

# ---------------------------------------------------------------- YAML
# Parses every YAML file (and the yaml blocks of the READMEs), then checks
# the compose file and the Kubernetes manifests against each other. Prints
# "ok|FAIL|skip<TAB>message" lines.
yaml_checks() {
	python3 - "$deploy" <<'PY'
import os
import re
import sys

import yaml

deploy = sys.argv[1]


def report(status, msg):
    print(f"{status}\t{msg}")


def rel(path):
    return os.path.relpath(path, deploy)


docs = {}  # relative path -> list of documents
for dirpath, dirnames, filenames in os.walk(deploy):
    dirnames.sort()
    for name in sorted(filenames):
        path = os.path.join(dirpath, name)
        if name.endswith((".yaml", ".yml")):
            try:
                with open(path, encoding="utf-8") as f:
                    docs[rel(path)] = [d for d in yaml.safe_load_all(f) if d is not None]
                report("ok", f"yaml: {rel(path)} parses")
            except yaml.YAMLError as e:
                report("FAIL", f"yaml: {rel(path)}: {e}".replace("\n", " "))
        elif name.endswith(".md"):
            with open(path, encoding="utf-8") as f:
                blocks = re.findall(r"^```ya?ml\n(.*?)^```", f.read(), re.M | re.S)
            bad = []
            for i, block in enumerate(blocks, 1):
                try:
                    list(yaml.safe_load_all(block))
                except yaml.YAMLError as e:
                    bad.append(f"block {i}: {e}".replace("\n", " "))
            if bad:
                report("FAIL", f"yaml: {rel(path)}: " + "; ".join(bad))
            elif blocks:
                report("ok", f"yaml: {len(blocks)} yaml block(s) in {rel(path)} parse")


def check(ok, good, bad):
    report("ok" if ok else "FAIL", good if ok else bad)


def env_map(env):
    """Compose environment as a dict, from either its list or its map form."""
    if isinstance(env, dict):
        return {k: "" if v is None else str(v) for k, v in env.items()}
    out = {}
    for item in env or []:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


def seconds(duration):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(duration))
    if not m or not any(m.groups()):
        return None
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


# ------------------------------------------------------------ compose
compose_docs = docs.get("docker-compose.yml")
if compose_docs:
    c = compose_docs[0]
    services = c.get("services") or {}
    check({"bulletinbot", "redis"} <= set(services),
          "compose: services bulletinbot and redis",
          f"compose: want services bulletinbot and redis, have {sorted(services)}")
    bot = services.get("bulletinbot") or {}
    redis = services.get("redis") or {}

    build = bot.get("build") or {}
    dockerfile = os.path.normpath(os.path.join(
        deploy, str(build.get("context", ".")), str(build.get("dockerfile", "Dockerfile"))))
    check(dockerfile == os.path.join(deploy, "Dockerfile"),
          "compose: bulletinbot builds deploy/Dockerfile from the repository root",
          f"compose: bulletinbot's build resolves to {dockerfile}, not deploy/Dockerfile")

    check(bot.get("env_file") in (".env", [".env"]),
          "compose: bulletinbot reads .env",
          f"compose: bulletinbot env_file is {bot.get('env_file')!r}, want .env")

    dep = (bot.get("depends_on") or {})
    cond = dep.get("redis", {}).get("condition") if isinstance(dep, dict) else None
    check(cond == "service_healthy",
          "compose: bulletinbot waits for a healthy redis",
          "compose: bulletinbot must depend on redis with condition service_healthy")

    env = env_map(bot.get("environment"))
    m = re.fullmatch(r"rediss?://(?:[^@/]*@)?([^:/]+)(?::\d+)?(?:/\d+)?", env.get("REDIS_URL", ""))
    check(bool(m) and m.group(1) in services,
          f"compose: REDIS_URL points at the {m.group(1) if m else '?'} service",
          f"compose: REDIS_URL {env.get('REDIS_URL')!r} does not name a compose service")
    check(env.get("HTTP_ADDR", "").startswith("0.0.0.0:"),
          "compose: bulletinbot listens on all interfaces",
          "compose: set HTTP_ADDR=0.0.0.0:8080 (127.0.0.1 is unreachable from outside a container)")

    grace = seconds(bot.get("stop_grace_period", "10s"))
    check(grace is not None and grace > 30,
          f"compose: stop_grace_period {bot.get('stop_grace_period')} covers the 30 s drain",
          f"compose: stop_grace_period {bot.get('stop_grace_period', '10s (default)')} is shorter than the 30 s drain")

    test = (redis.get("healthcheck") or {}).get("test") or []
    test = " ".join(test) if isinstance(test, list) else str(test)
    check("redis-cli" in test and "ping" in test,
          "compose: redis healthcheck is redis-cli ping",
          f"compose: redis healthcheck {test!r} is not redis-cli ping")
    cmd = redis.get("command") or []
    cmd = " ".join(cmd) if isinstance(cmd, list) else str(cmd)
    check("--appendonly yes" in cmd,
          "compose: redis persists with AOF",
          f"compose: redis command {cmd!r} lacks --appendonly yes")

    declared = set((c.get("volumes") or {}).keys())
    used = set()
    for svc in services.values():
        for v in (svc or {}).get("volumes") or []:
            src = v.get("source") if isinstance(v, dict) else str(v).split(":")[0]
            if src and not src.startswith((".", "/", "~")):
                used.add(src)
    check(used <= declared,
          "compose: named volumes are declared",
          f"compose: volumes used but not declared: {sorted(used - declared)}")
elif "docker-compose.yml" not in docs:
    report("FAIL", "compose: deploy/docker-compose.yml missing")

# ------------------------------------------------------------ kubernetes
k8s = {p: d for p, d in docs.items() if p.startswith("k8s" + os.sep)}
objects = {}  # (kind, name) -> object
for path, ds in sorted(k8s.items()):
    problems = []
    for d in ds:
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") \
                or not (d.get("metadata") or {}).get("name"):
            problems.append("a document lacks apiVersion, kind or metadata.name")
            continue
        if "namespace" in d["metadata"]:
            problems.append(f"{d['kind']}/{d['metadata']['name']} sets a namespace")
        objects[(d["kind"], d["metadata"]["name"])] = d
    check(not problems, f"k8s: {path}: well-formed, no namespace", f"k8s: {path}: " + "; ".join(problems))

cm = next((o for (k, _), o in objects.items() if k == "ConfigMap"), None)
secret = next((o for (k, _), o in objects.items() if k == "Secret"), None)
if cm is not None:
    data = cm.get("data") or {}
    nonstr = sorted(k for k, v in data.items() if not isinstance(v, str))
    check(not nonstr, "k8s: ConfigMap values are strings",
          f"k8s: ConfigMap values must be strings (quote them): {nonstr}")
if secret is not None:
    sd = secret.get("stringData") or {}
    real = sorted(k for k, v in sd.items() if "REPLACE_ME" not in str(v))
    check(sd and not real, "k8s: example Secret holds only REPLACE_ME placeholders",
          f"k8s: example Secret values without REPLACE_ME: {real}")

for (kind, name), dep in sorted(objects.items()):
    if kind != "Deployment":
        continue
    where = f"k8s: Deployment/{name}"
    spec = dep.get("spec") or {}
    tmpl = spec.get("template") or {}
    pod = tmpl.get("spec") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    check(sel and sel.items() <= labels.items(), f"{where}: selector matches the pod labels",
          f"{where}: selector {sel} does not match pod labels {labels}")

    containers = pod.get("containers") or []
    if not containers:
        report("FAIL", f"{where}: no containers")
        continue
    ctr = containers[0]
    ports = {p.get("name"): p.get("containerPort") for p in ctr.get("ports") or []}
    envs = ctr.get("env") or []
    env = {e.get("name"): e for e in envs}

    addr = str((env.get("HTTP_ADDR") or {}).get("value", ""))
    check(addr.startswith("0.0.0.0:") and addr.rsplit(":", 1)[1] in {str(p) for p in ports.values()},
          f"{where}: HTTP_ADDR {addr} matches a container port",
          f"{where}: HTTP_ADDR {addr!r} must be 0.0.0.0:<a containerPort>")
    badval = sorted(e.get("name") for e in envs if "value" in e and not isinstance(e["value"], str))
    check(not badval and len(env) == len(envs), f"{where}: env names unique, values strings",
          f"{where}: duplicate env names or non-string values {badval}")

    problems = []
    for e in envs:
        ref = e.get("valueFrom") or {}
        if "secretKeyRef" in ref:
            r = ref["secretKeyRef"]
            if secret is None or r.get("name") != secret["metadata"]["name"] \
                    or r.get("key") not in (secret.get("stringData") or {}):
                problems.append(f"{e['name']} -> secret {r.get('name')}/{r.get('key')}")
        if "configMapKeyRef" in ref:
            r = ref["configMapKeyRef"]
            if cm is None or r.get("name") != cm["metadata"]["name"]:
                problems.append(f"{e['name']} -> configmap {r.get('name')}")
            elif not r.get("optional") and r.get("key") not in (cm.get("data") or {}):
                problems.append(f"{e['name']} -> configmap key {r.get('key')} (required, absent)")
    check(not problems, f"{where}: every Secret and ConfigMap reference resolves",
          f"{where}: unresolved references: {problems}")

    replicas = spec.get("replicas", 1)
    redis_ref = ((env.get("REDIS_URL") or {}).get("valueFrom") or {})
    redis_ref = redis_ref.get("secretKeyRef") or redis_ref.get("configMapKeyRef")
    check(replicas <= 1 or (redis_ref is not None and not redis_ref.get("optional")),
          f"{where}: {replicas} replicas with a required REDIS_URL",
          f"{where}: {replicas} replicas need REDIS_URL set and not optional (the embedded store is single-process)")

    def probe_ok(probe, path):
        h = (probe or {}).get("httpGet") or {}
        return h.get("path") == path and (h.get("port") in ports or h.get("port") in ports.values())
    check(probe_ok(ctr.get("livenessProbe"), "/healthz") and probe_ok(ctr.get("readinessProbe"), "/readyz"),
          f"{where}: liveness /healthz and readiness /readyz on a container port",
          f"{where}: want livenessProbe GET /healthz and readinessProbe GET /readyz on a container port")

    psc = pod.get("securityContext") or {}
    csc = ctr.get("securityContext") or {}
    seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
    hardening = {
        "runAsNonRoot": csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True,
        "readOnlyRootFilesystem": csc.get("readOnlyRootFilesystem") is True,
        "allowPrivilegeEscalation: false": csc.get("allowPrivilegeEscalation") is False,
        "drop ALL": "ALL" in ((csc.get("capabilities") or {}).get("drop") or []),
        "seccomp RuntimeDefault": seccomp == "RuntimeDefault",
    }
    missing = [k for k, v in hardening.items() if not v]
    check(not missing, f"{where}: securityContext hardened", f"{where}: securityContext lacks {missing}")

    res = ctr.get("resources") or {}
    check(all(k in (res.get(kind_) or {}) for kind_ in ("requests", "limits") for k in ("cpu", "memory")),
          f"{where}: cpu and memory requests and limits set",
          f"{where}: set cpu and memory in both resources.requests and resources.limits")

    def mib(q):
        m = re.fullmatch(r"(\d+)(Mi|MiB|Gi|GiB)", str(q))
        return None if not m else int(m.group(1)) * (1024 if m.group(2).startswith("G") else 1)
    gml = (env.get("GOMEMLIMIT") or {}).get("value")
    if gml is not None:
        lim = mib((res.get("limits") or {}).get("memory"))
        check(mib(gml) is not None and lim is not None and mib(gml) < lim,
              f"{where}: GOMEMLIMIT {gml} below the memory limit",
              f"{where}: GOMEMLIMIT {gml} must be below the memory limit {(res.get('limits') or {}).get('memory')}")

    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(grace > 30, f"{where}: terminationGracePeriodSeconds {grace} covers the 30 s drain",
          f"{where}: terminationGracePeriodSeconds {grace} must exceed the 30 s drain")

    vols = {v.get("name"): v for v in pod.get("volumes") or []}
    problems = [m.get("name") for m in ctr.get("volumeMounts") or [] if m.get("name") not in vols]
    for v in vols.values():
        if "configMap" in v and (cm is None or v["configMap"].get("name") != cm["metadata"]["name"]):
            problems.append(f"{v.get('name')} -> configmap {v['configMap'].get('name')}")
    check(not problems, f"{where}: volume mounts resolve", f"{where}: unresolved volumes {problems}")

    for (okind, oname), o in sorted(objects.items()):
        osel = None
        if okind == "Service":
            osel = (o.get("spec") or {}).get("selector") or {}
            targets = [p.get("targetPort") for p in (o.get("spec") or {}).get("ports") or []]
            check(targets and all(t in ports or t in ports.values() for t in targets),
                  f"k8s: Service/{oname} targets a container port",
                  f"k8s: Service/{oname} targetPort {targets} is not a port of {name}")
        elif okind == "PodDisruptionBudget":
            osel = ((o.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            check((o.get("spec") or {}).get("minAvailable", 0) < replicas,
                  f"k8s: PodDisruptionBudget/{oname} leaves room to evict",
                  f"k8s: PodDisruptionBudget/{oname} minAvailable blocks every eviction at {replicas} replicas")
        if osel is not None:
            check(osel and osel.items() <= labels.items(),
                  f"k8s: {okind}/{oname} selects the {name} pods",
                  f"k8s: {okind}/{oname} selector {osel} does not match pod labels {labels}")
PY
}

check_dockerfile
check_systemd
check_env_example
check_no_tokens

if ! command -v python3 >/dev/null 2>&1; then
	skip "yaml: python3 not installed; YAML, compose and Kubernetes checks skipped"
elif ! python3 -c 'import yaml' >/dev/null 2>&1; then
	skip "yaml: PyYAML not installed (apt-get install python3-yaml); YAML, compose and Kubernetes checks skipped"
else
	yaml_out=$tmp/yaml.out
	if ! yaml_checks >"$yaml_out" 2>"$tmp/yaml.err"; then
		fail "yaml: the checker itself crashed: $(tail -n1 "$tmp/yaml.err")"
	fi
	while IFS=$'\t' read -r status msg; do
		case $status in
		ok) pass "$msg" ;;
		skip) skip "$msg" ;;
		*) fail "$msg" ;;
		esac
	done <"$yaml_out"
fi

if [[ -x $deploy/check.sh ]]; then
	pass "check.sh is executable"
else
	fail "check.sh is not executable (chmod +x deploy/check.sh)"
fi

printf 'deploy check: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
((failed == 0))
