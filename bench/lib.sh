# What the bench scripts share; each sources it from the repository root (`. bench/lib.sh`).

# The gateways a script starts listen on loopback only (the shipped config listens on 0.0.0.0):
# load is driven at 127.0.0.1 and nothing else on the network reaches them.
export MLSERVER_HOST=${MLSERVER_HOST:-127.0.0.1}

# Processes a script starts in the background go into pids; they are stopped when it exits.
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Server CPU: utime + stime of process $1 in clock ticks, $ticks of them a second.
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
