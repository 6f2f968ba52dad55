#!/bin/bash
# Experiment (docs/docker.md, "Launch time"): how fast a 3-node NATS cluster
# becomes healthy on this engine when the nodes share the Toxiproxy
# container's network namespace (the "pod" arrangement, which the docker
# platform has used since), instead of one namespace per node. Docker CLI only; needs the
# local images of `make images`. Prints, per launch, the seconds until every
# container was started and until every node was healthy and routed to both
# peers. Usage: docs/experiments/pod-launch.sh [LAUNCHES]
set -euo pipefail
launches=${1:-10}
work=$(mktemp -d)
cleanup() { docker ps -aq --filter label=riptide.experiment=pod | xargs -r docker rm -f >/dev/null
	docker network ls -q --filter label=riptide.experiment=pod | xargs -r docker network rm >/dev/null; rm -rf "$work"; }
trap cleanup EXIT

launch() {
	local run=$1 D=$work/$1
	mkdir -p "$D"
	# Client proxies 1000i -> 127.0.0.1:422i; route proxies 200ij -> 127.0.0.1:622j.
	{
		echo "["; local sep=""
		for i in 1 2 3; do
			echo "$sep{\"name\":\"c$i\",\"listen\":\"0.0.0.0:1000$i\",\"upstream\":\"127.0.0.1:422$i\",\"enabled\":true}"; sep=","
			for j in 1 2 3; do
				[ $i = $j ] && continue
				echo ",{\"name\":\"r$i$j\",\"listen\":\"127.0.0.1:200$i$j\",\"upstream\":\"127.0.0.1:622$j\",\"enabled\":true}"
			done
		done
		echo "]"
	} >"$D/toxi.json"
	for i in 1 2 3; do
		mkdir -p "$D/n$i/data"
		local routes=""
		for j in 1 2 3; do [ $i = $j ] || routes="$routes${routes:+,} \"nats-route://127.0.0.1:200$i$j\""; done
		cat >"$D/n$i/nats.conf" <<C
server_name: "n$i"
listen: "127.0.0.1:422$i"
http: "0.0.0.0:822$i"
jetstream { store_dir: "/riptide/data", sync_interval: always }
cluster { name: "riptide", listen: "127.0.0.1:622$i", advertise: "127.0.0.1:1", no_advertise: true, routes: [ $routes ] }
C
	done
	local t0 t1 t2
	t0=$(date +%s.%N)
	docker network create --label riptide.experiment=pod "pod$run" >/dev/null
	docker create --label riptide.experiment=pod --name "pod$run-t" --network "pod$run" -v "$D/toxi.json:/c.json:ro" \
		-p 127.0.0.1::8474 -p 127.0.0.1::10001 -p 127.0.0.1::10002 -p 127.0.0.1::10003 \
		-p 127.0.0.1::8221 -p 127.0.0.1::8222 -p 127.0.0.1::8223 \
		riptide/toxiproxy:2.12.0 -host=0.0.0.0 -config=/c.json >/dev/null
	for i in 1 2 3; do
		docker create --label riptide.experiment=pod --name "pod$run-n$i" --network "container:pod$run-t" \
			-u "$(id -u):$(id -g)" -v "$D/n$i:/riptide" riptide/nats-server:2.12.1 --config /riptide/nats.conf >/dev/null &
	done
	docker start "pod$run-t" >/dev/null
	wait
	for i in 1 2 3; do docker start "pod$run-n$i" >/dev/null & done
	wait
	t1=$(date +%s.%N)
	local ports=()
	for i in 1 2 3; do ports[$i]=$(docker port "pod$run-t" "822$i" | head -1); done
	while :; do
		local ok=0
		for i in 1 2 3; do
			local h r
			h=$(curl -s --max-time 1 "http://${ports[$i]}/healthz" || true)
			r=$(curl -s --max-time 1 "http://${ports[$i]}/routez" | grep -c remote_name || true)
			[[ "$h" == *'"ok"'* ]] && [ "$r" -ge 2 ] && ok=$((ok + 1))
		done
		[ $ok = 3 ] && break
		sleep 0.1
	done
	t2=$(date +%s.%N)
	echo "launch $run: started $(echo "$t1 - $t0" | bc) s, healthy $(echo "$t2 - $t0" | bc) s"
	docker rm -f "pod$run-n1" "pod$run-n2" "pod$run-n3" "pod$run-t" >/dev/null
	docker network rm "pod$run" >/dev/null
}

for r in $(seq 1 "$launches"); do launch "$r"; done
