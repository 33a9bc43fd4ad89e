#!/usr/bin/env bash
# Run a command against a throwaway local Spark Thrift server (HiveServer2).
#
#   bash scripts/with_spark_thrift.sh <command> [args...]
#
# Starts org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 from the
# pinned pyspark (requirements-spark.txt ships spark-hive-thriftserver_2.13)
# on 127.0.0.1 only, on a free port: master local[2], session time zone UTC,
# two shuffle partitions, no web UI, its own warehouse folder and Derby
# metastore in a temporary folder. Waits until the server accepts
# connections, exports HANDSHAKE_SPARK_THRIFT_HOST / HANDSHAKE_SPARK_THRIFT_PORT
# (what the spark_thrift target of profiles.yml reads), runs the command, then
# stops the server by its process id and removes the folder, also when the
# command fails or is interrupted. The command's exit code is returned.
#
# SPARK_VENV (default .venv-spark of the project) is the venv whose pyspark
# runs the server; SPARK_THRIFT_DRIVER_MEMORY (default 2g) its heap;
# SPARK_THRIFT_START_TIMEOUT (seconds, default 300) how long to wait for it;
# SPARK_THRIFT_HIVECONF extra server settings, "key=value key=value" (the
# tests use it for a server whose LDAP login always fails).
set -euo pipefail

project_dir="$(cd "$(dirname "$0")/.." && pwd)"
venv="${SPARK_VENV:-$project_dir/.venv-spark}"
python="$venv/bin/python"
if [ ! -x "$python" ] || ! spark_home="$("$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' 2>/dev/null)"; then
    echo "with_spark_thrift: no pyspark in $venv (make $venv/bin/.installed, or set SPARK_VENV)" >&2
    exit 2
fi
if ! ls "$spark_home"/jars/spark-hive-thriftserver_*.jar >/dev/null 2>&1; then
    echo "with_spark_thrift: $spark_home/jars has no spark-hive-thriftserver jar (pyspark==4.3.0 ships it)" >&2
    exit 2
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if ! command -v "$java" >/dev/null 2>&1; then
    echo "with_spark_thrift: Spark needs Java 17 and no $java command was found (make java)" >&2
    exit 2
fi
timeout="${SPARK_THRIFT_START_TIMEOUT:-300}"

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/handshake-spark-thrift.XXXXXX")"
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_pid=""
hiveconf=()
for setting in ${SPARK_THRIFT_HIVECONF:-}; do
    hiveconf+=(--hiveconf "$setting")
done

stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        # A JVM shuts down in a few seconds; then it is killed.
        for _ in $(seq 1 60); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work_dir"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work_dir/warehouse" "$work_dir/local" "$work_dir/tmp"
# spark-submit execs java (bin/spark-class): $! is the JVM's own process id.
# setsid: a Ctrl-C in the terminal reaches this script, which stops the
# server itself, rather than the JVM directly.
SPARK_HOME="$spark_home" PYSPARK_PYTHON="$python" SPARK_LOCAL_IP=127.0.0.1 \
SPARK_LOG_DIR="$work_dir" SPARK_CONF_DIR="$work_dir" \
    setsid "$spark_home/bin/spark-submit" \
    --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
    --name handshake-spark-thrift \
    --master "local[2]" \
    --driver-memory "${SPARK_THRIFT_DRIVER_MEMORY:-2g}" \
    --driver-java-options "-Dderby.system.home=$work_dir -Djava.io.tmpdir=$work_dir/tmp" \
    --conf spark.driver.host=127.0.0.1 \
    --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.sql.session.timeZone=UTC \
    --conf spark.sql.shuffle.partitions=2 \
    --conf spark.ui.enabled=false \
    --conf spark.ui.showConsoleProgress=false \
    --conf spark.local.dir="$work_dir/local" \
    --conf spark.sql.warehouse.dir="$work_dir/warehouse" \
    --conf "spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$work_dir/metastore_db;create=true" \
    --hiveconf hive.server2.thrift.bind.host=127.0.0.1 \
    --hiveconf hive.server2.thrift.port="$port" \
    --hiveconf hive.server2.transport.mode=binary \
    "${hiveconf[@]}" \
    >"$work_dir/server.log" 2>&1 </dev/null &
server_pid=$!

# Ready when the port accepts a connection (HiveServer2 opens it last).
deadline=$((SECONDS + timeout))
until "$python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "with_spark_thrift: the Spark Thrift server exited before accepting connections; its log:" >&2
        tail -n 30 "$work_dir/server.log" >&2
        exit 2
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "with_spark_thrift: the Spark Thrift server did not accept connections on 127.0.0.1:$port within ${timeout}s (SPARK_THRIFT_START_TIMEOUT); its log:" >&2
        tail -n 30 "$work_dir/server.log" >&2
        exit 2
    fi
    sleep 1
done

export HANDSHAKE_SPARK_THRIFT_HOST=127.0.0.1 HANDSHAKE_SPARK_THRIFT_PORT="$port"
echo "with_spark_thrift: Spark $("$python" -c 'import pyspark; print(pyspark.__version__)') Thrift server on 127.0.0.1:$port (pid $server_pid, ${SECONDS}s to start)" >&2

# The command runs in a process group of its own (set -m), waited for
# here, so that an INT or TERM to this script is handled at once (bash
# runs a trap only after a foreground command ends) and passed on to the
# whole command (pytest and the dbt it started, as a Ctrl-C would); then
# the EXIT trap stops the server.
interrupted=""
forward() {
    interrupted="$2"
    kill -"$1" -- "-$command_pid" 2>/dev/null || true
}
set -m
"$@" <&0 &
command_pid=$!
set +m
trap 'forward INT 130' INT
trap 'forward TERM 143' TERM
set +e
while :; do
    wait "$command_pid"
    status=$?
    # wait also returns when a trapped signal arrives: wait again for the command.
    kill -0 "$command_pid" 2>/dev/null || break
done
set -e
exit "${interrupted:-$status}"
