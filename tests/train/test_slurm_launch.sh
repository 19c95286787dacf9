#!/usr/bin/env bash
# Launching under Slurm (run by CTest with the tttlm binary as $1 and local_rank_probe as $2), with the
# Slurm variables faked: a binary started by srun with several tasks but no MPI connection refuses to run;
# under an MPI launch the local rank (the GPU) comes from SLURM_LOCALID, which must hold 0..n-1 on a node.
source "$(dirname "$0")/dp_common.sh" "$1"
probe=$(realpath "$2")

# 1. SLURM_NTASKS=2, no mpirun and no PMI: refused before any training, nothing written to the run directory.
set +e
env -u OMPI_COMM_WORLD_SIZE SLURM_NTASKS=2 SLURM_PROCID=0 SLURM_LOCALID=0 \
  timeout 60 "$tttlm" train "$tmp/run.json" --quiet --set train.run_dir="$tmp/srun_no_mpi" >"$tmp/a.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "FAILED: srun without MPI: exit $rc, expected 1"; cat "$tmp/a.log"; exit 1; }
grep -q "SLURM_NTASKS says 2 tasks (this is task SLURM_PROCID=0) but MPI found a world of 1" "$tmp/a.log" || {
  echo "FAILED: srun without MPI: message not found in:"; cat "$tmp/a.log"; exit 1; }
[ ! -e "$tmp/srun_no_mpi" ] || { echo "FAILED: srun without MPI wrote $tmp/srun_no_mpi"; exit 1; }
echo "ok: SLURM_NTASKS=2 without MPI refused"

# 2. One task (SLURM_NTASKS=1) is a plain single-process run: the probe reports world 1, local 0.
out=$(SLURM_NTASKS=1 SLURM_PROCID=0 SLURM_LOCALID=0 "$probe")
[ "$out" = "rank 0 world 1 local 0" ] || { echo "FAILED: one task: got \"$out\""; exit 1; }
echo "ok: SLURM_NTASKS=1 runs alone"

# 3. mpirun -np 2 with SLURM_LOCALID reversed (rank 0 -> 1, rank 1 -> 0): MPI's node split would give
#    local = rank; the local rank must be taken from SLURM_LOCALID.
cat >"$tmp/wrap.sh" <<'SH'
#!/usr/bin/env bash
export SLURM_NTASKS=2 SLURM_PROCID=$OMPI_COMM_WORLD_RANK
export SLURM_LOCALID=$(( OMPI_COMM_WORLD_RANK == 0 ? LOCALID0 : LOCALID1 ))
exec "$@"
SH
chmod +x "$tmp/wrap.sh"
out=$("${mpi[@]}" -np 2 -x LOCALID0=1 -x LOCALID1=0 "$tmp/wrap.sh" "$probe" | sort)
expected=$'rank 0 world 2 local 1\nrank 1 world 2 local 0'
[ "$out" = "$expected" ] || { echo "FAILED: SLURM_LOCALID reversed: got"; echo "$out"; echo "expected"; echo "$expected"; exit 1; }
echo "ok: local rank from SLURM_LOCALID"

# 4. Without Slurm variables the local rank is MPI's node split (local = rank on one node).
out=$("${mpi[@]}" -np 2 "$probe" | sort)
expected=$'rank 0 world 2 local 0\nrank 1 world 2 local 1'
[ "$out" = "$expected" ] || { echo "FAILED: no Slurm: got"; echo "$out"; exit 1; }
echo "ok: local rank from MPI without Slurm"

# 5. SLURM_LOCALID 0 on both ranks of one node contradicts MPI: refused, naming the variable and values.
set +e
"${mpi[@]}" -np 2 -x LOCALID0=0 -x LOCALID1=0 "$tmp/wrap.sh" "$probe" >"$tmp/e.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || { echo "FAILED: duplicate SLURM_LOCALID accepted"; cat "$tmp/e.log"; exit 1; }
grep -q "SLURM_LOCALID on host .*: expected each of 0..1 once across the 2 ranks MPI places on this node; found 0, 0" \
  "$tmp/e.log" || { echo "FAILED: duplicate SLURM_LOCALID: message not found in:"; cat "$tmp/e.log"; exit 1; }
echo "ok: inconsistent SLURM_LOCALID refused"
