"""Benchmarks of mfhrl_fast.

Simulator throughput (``mfhrl-fast bench-sim``, ``bench/test_bench_sim.py``):

- :mod:`.sim_common`: the shared inputs (actions, reset states), the
  ``mujoco.mj_step`` reference and the output checks;
- :mod:`.native_output`: quieting MuJoCo's per-model warnings while systems are built;
- :mod:`.sim_systems`: one class per benchmarked simulator (SimPool and its peers);
- :mod:`.sim_compare`: timing systems, the interleaved comparison of every row
  and its ratios;
- :mod:`.sim_table`: the printed table and the command's ``main``.
"""
