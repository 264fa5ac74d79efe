"""MF-HRL-IGM end to end: the online rounds of the paper's algorithm under a budget.

:func:`run` takes a :class:`~.config.RunConfig` and returns a :class:`~.records.RunResult`:
it obtains D_off, trains (or reuses) the offline CQL ensemble, then plays rounds until the
strategy stops or nothing is affordable. With ``out_dir`` every round ends in an atomic
checkpoint and ``resume=True`` continues a killed run exactly: every random draw of round
r comes from generators seeded by (seed, r) or restored from the checkpoint (the members'
and discriminators' torch generators), so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._allocator import retain_freed_memory
from ..data import OfflineDataset
from ..fidelity import FidelitySpec
from ..learners import EnsembleH2O, FidelityDiscriminators, metrics_to_floats
from ..learners.online import evaluate
from ..replay import ReplayRing
from ..rollout import PoolStep, rollout
from ..sim_pool import SimPool
from .budget import BudgetController
from .calibration import critic_calibration
from .checkpoint import (
    latest_checkpoint,
    load_state,
    prepare_run_folder,
    save_checkpoint,
)
from .config import RunConfig
from .guard import FiniteWatch
from .offline import get_offline, load_dataset, offline_ring
from .posterior import Posterior
from .records import RoundRecord, RunResult
from .round_data import (
    DynamicsTable,
    RoundBuffers,
    dataset_batch,
    paired_data,
    round_seed,
    subsample,
)
from .run_log import Progress, TensorBoardLog, write_tables
from .strategies import make_strategy

MAX_SIM_CAPACITY = 2_000_000
"""Upper bound of the simulated replay (FIFO beyond it)."""


class Experiment:
    """The state of one run between rounds; :meth:`play_round` plays the next round."""

    def __init__(self, config: RunConfig, dataset: OfflineDataset, offline: dict[str, Any]) -> None:
        self.config = c = config
        o, n = c.offline, c.online
        if tuple(o.cql.hidden_sizes) != tuple(n.h2o.hidden_sizes):
            raise ValueError("offline.cql.hidden_sizes and online.h2o.hidden_sizes must match: "
                             "the online members start from the offline weights")
        if offline["num_members"] != o.num_members:
            raise ValueError(f"the offline state has {offline['num_members']} members, "
                             f"the config {o.num_members}")
        self.dataset, self.num_levels = dataset, len(c.fidelities)
        obs_dim, act_dim = dataset.obs_dim, dataset.act_dim
        disc = FidelityDiscriminators(obs_dim, act_dim, range(self.num_levels), n.discriminator,
                                      seed=c.seed, device=c.device)
        disc.set_real_states(dataset.observations)
        self.learner = EnsembleH2O(obs_dim, act_dim, disc, num_members=o.num_members,
                                   config=n.h2o, seed=c.seed, device=c.device,
                                   precision=c.precision)
        mine = self.learner.nets.state_dict()
        keep = {k for k in mine if n.carry_alpha or k != "log_alpha"}
        loaded = self.learner.nets.load_state_dict(
            {k: v for k, v in offline["nets"].items() if k in keep}, strict=False)
        if missing := [k for k in loaded.missing_keys
                       if k in keep and not k.startswith(("actor_avg.", "actor_ref."))]:
            raise ValueError(f"the offline state lacks {missing}")
        self.learner.sync_averaged_actor()  # the actor's copies start at the offline actor
        if n.carry_optimizer:
            if "optimizer" not in offline or o.cql.lagrange:
                raise ValueError("online.carry_optimizer needs an offline state with the Adam "
                                 "state of a non-Lagrange CQL (retrain the offline phase)")
            self.learner.optimizer.load_state_dict(offline["optimizer"])
        self.real = offline_ring(dataset, c)
        capacity = min(MAX_SIM_CAPACITY, self._max_rounds() * n.episodes_per_round
                       * n.episode_steps)
        self.sim = ReplayRing(capacity=max(capacity, 1), obs_dim=obs_dim, act_dim=act_dim,
                              num_members=o.num_members, seed=c.seed,
                              mask_prob=o.mask_prob if n.sim_mask_prob is None
                              else n.sim_mask_prob)
        self.budget = BudgetController(c.budget, c.costs, c=n.c)
        self.strategy = make_strategy(c.strategy)
        self.posterior = Posterior(o.num_members, self.num_levels, history=n.history,
                                   eta=n.eta, eta0=n.eta0)
        rng = np.random.default_rng(round_seed(c.seed, 0, 0))
        self.real_score = subsample(dataset_batch(dataset), n.real_score_transitions, rng)
        self.records: list[RoundRecord] = []
        self.pools: dict[int, SimPool] = {}
        self.paired_data: dict[int, tuple[dict[str, np.ndarray], np.ndarray]] = {}
        self.buffers = RoundBuffers.empty(n.episode_steps, n.episodes_per_round, obs_dim, act_dim)
        self._out = {
            "real": self.real.empty_batch(n.real_batch, members=True),
            "sim": self.sim.empty_batch(n.sim_batch, members=True, index=True),
            "disc_real": self.real.empty_batch(n.disc_batch),
            "disc_sim": self.sim.empty_batch(n.disc_batch),
        }

    def _max_rounds(self) -> int:
        return int(self.config.budget // min(self.config.costs)) if self.config.budget else 0

    # ------------------------------------------------------------------ pieces
    def score(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """L_l(B) of every member: its H2O critic loss (eq. 1) per transition, no gradient."""
        return self.learner.member_losses(self.real_score, batch)

    def evaluate_map(self) -> tuple[np.ndarray, dict[str, float]]:
        """Deterministic returns of the MAP member in the true dynamics M, and its critic's
        calibration on those episodes: the mean Q(s_t, pi(s_t)) (min of the twins) and the
        mean discounted Monte-Carlo return-to-go, over the first half of the steps (where
        the episode's end truncates the return-to-go by less than gamma^(T/2))."""
        n, member = self.config.online, self.posterior.map_member()
        traj: dict[str, np.ndarray] = {}
        returns = evaluate(self.learner, members=member, fidelity=FidelitySpec(),
                           n_episodes=n.eval_episodes, max_episode_steps=n.eval_steps,
                           seed=self.config.eval_seed, num_threads=self.config.num_threads,
                           trajectories=traj, averaged=n.h2o.policy_averaging > 0)[0]
        return returns, critic_calibration(self.learner, member, traj, n.h2o.gamma)

    def _pool(self, level: int) -> SimPool:
        if level not in self.pools:
            n = self.config.online
            self.pools[level] = SimPool(
                fidelities=self.config.fidelities,
                fidelity_ids=np.full(n.episodes_per_round, level), seed=self.config.seed,
                num_threads=self.config.num_threads, obs_dtype=np.float32,
                max_episode_steps=n.episode_steps)
        return self.pools[level]

    def rollouts(self, level: int, members: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        """n_e episodes at ``level`` in one pool, episode i acted by member ``members[i]``
        with stochastic actions (plus ``online.explore_std`` noise); every transition is
        stored in the simulated replay by the C++ step (fidelity id and bootstrap masks).
        Returns the round's valid transitions."""
        pool, b = self._pool(level), self.buffers

        def store(step: PoolStep) -> None:
            t = step.t
            b.obs[t], b.action[t], b.reward[t] = step.obs, step.action, step.reward
            b.next_obs[t], b.terminated[t], b.valid[t] = step.next_obs, step.terminated, step.valid

        explore = self.config.online.explore_std
        noise_rng = np.random.default_rng([seed, 9])

        def act(obs: np.ndarray) -> np.ndarray:
            action = self.learner.act(obs, member=members)
            if explore > 0:
                noise = noise_rng.standard_normal(action.shape, dtype=np.float32)
                action = np.clip(action + explore * noise, -1.0, 1.0)
            return action

        rollout(pool, act, self.config.online.episode_steps, replay=self.sim, sink=store,
                obs=pool.reset(seed=seed))
        keep = b.valid.reshape(-1)
        batch = {k: getattr(b, k).reshape(keep.size, *getattr(b, k).shape[2:])[keep]
                 for k in ("obs", "action", "reward", "next_obs", "terminated")}
        batch["fidelity"] = np.full(int(keep.sum()), level, dtype=np.uint8)
        return batch

    def paired(self, level: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The real transitions and ``level``'s replay of them (:func:`.paired.paired_data`),
        computed on first use."""
        if level not in self.paired_data:
            c = self.config
            self.paired_data[level] = paired_data(
                self.dataset, c.fidelities[level], c.online.paired_transitions,
                seed=c.seed, draw_seed=round_seed(c.seed, 0, 6), num_threads=c.num_threads)
        return self.paired_data[level]

    def train_discriminators(self, level: int) -> dict[str, float]:
        """``online.disc_steps`` steps of the level's D_sa / D_sas on real transitions
        against the level's rollouts or, with ``disc_data = 'paired'``, against the same
        real (s, a) replayed in the level's simulator."""
        n, metrics = self.config.online, {}
        watch = FiniteWatch("discriminator step")
        if n.disc_data == "paired":
            real_rows, sim_next = self.paired(level)
            rng = np.random.default_rng(round_seed(self.config.seed, self.budget.round, 7))

            def draw() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
                index = rng.integers(0, len(sim_next), n.disc_batch)
                real = {k: v[index] for k, v in real_rows.items()}
                return real, {**real, "next_obs": sim_next[index]}
        else:
            def draw() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
                return (self.real.sample(n.disc_batch, out=self._out["disc_real"]),
                        self.sim.sample(n.disc_batch, fidelities=[level],
                                        out=self._out["disc_sim"]))
        for _ in range(n.disc_steps):
            real, sim = draw()
            metrics = self.learner.discriminators.train_step(level, real, sim, as_float=False)
            watch.observe(metrics)
        watch.check(f"round {self.budget.round}", self.learner.discriminators.nets)
        return metrics

    def train_members(self, cost: float) -> dict[str, Any]:
        """G H2O steps (``OnlineConfig.round_steps`` of the round's ``cost``) of all members
        as one ensemble, each on its bootstrap shares."""
        n, metrics = self.config.online, {}
        if min(self.sim.member_count(m) for m in range(self.learner.num_members)) == 0:
            return metrics  # a member without simulated data (tiny rounds): wait for more
        watch = FiniteWatch("H2O step")
        steps = n.round_steps(cost)
        table = DynamicsTable.if_cheaper(
            self.learner, self.sim, steps, n.sim_batch,
            round_seed(self.config.seed, self.budget.round, 8)) if n.gap_table else None
        for _ in range(steps):
            real = self.real.sample_members(n.real_batch, out=self._out["real"])
            sim = self.sim.sample_members(n.sim_batch, out=self._out["sim"])
            if table is not None:
                sim = table.attach(sim)
            metrics = self.learner.train_step(real, sim, as_float=False)
            watch.observe(metrics)
        watch.check(f"round {self.budget.round}", self.learner.nets)
        return metrics

    # ------------------------------------------------------------------ rounds
    def offline_record(self) -> RoundRecord:
        """Round 0: the offline ensemble under the uniform prior, evaluated."""
        t0 = time.perf_counter()
        returns, calibration = self.evaluate_map()
        nan = [float("nan")] * self.num_levels
        return RoundRecord(
            round=0, fidelity=-1, fidelity_name="offline", cost=0.0, spent=0.0,
            remaining=self.budget.remaining, beta=self.budget.beta(), ig=nan, ig_per_cost=nan,
            posterior=self.posterior.probs.tolist(), entropy=self.posterior.entropy(),
            map_member=self.posterior.map_member(), eta=float("nan"),
            eval_return=float(returns.mean()), eval_returns=returns.tolist(),
            time_eval=time.perf_counter() - t0, time_round=time.perf_counter() - t0,
            metrics=calibration)

    def play_round(self) -> RoundRecord | None:
        """One round (docs/algorithm.md, "A round"), or None when the strategy stops or nothing
        is affordable."""
        c, n = self.config, self.config.online
        r = self.budget.round + 1
        t_start = time.perf_counter()
        # 1. choose k_r (eqs. 8-9) and charge it
        nan = np.full(self.num_levels, np.nan)
        ig = (self.posterior.information_gain(self.score)
              if self.strategy.needs_ig or n.log_ig_every_round else nan)
        beta = self.budget.beta()
        choice_rng = np.random.default_rng(round_seed(c.seed, r, 1))
        level = self.strategy.choose(self.budget, ig, choice_rng)
        if level < 0:
            return None
        entry = self.budget.charge(level)
        t_select = time.perf_counter() - t_start
        # 2-3. Thompson-sampled rollouts, stored with fidelity ids and masks; keep B_r in H_k
        t0 = time.perf_counter()
        rng = np.random.default_rng(round_seed(c.seed, r, 2))
        members = self.posterior.thompson(rng, n.episodes_per_round)
        self.sim.reseed(round_seed(c.seed, r, 3))
        self.real.reseed(round_seed(c.seed, r, 4))
        batch = self.rollouts(level, members, round_seed(c.seed, r, 5) % 2**31)
        t_sim = time.perf_counter() - t0
        # 4. the level's discriminators
        t0 = time.perf_counter()
        disc_metrics = self.train_discriminators(level)
        t_learn = time.perf_counter() - t0
        # 5. posterior update (eq. 7) with B_r, which joins H_k
        t0 = time.perf_counter()
        scored = subsample(batch, n.score_transitions, rng)
        eta = self.posterior.update(self.score(scored))
        self.posterior.remember(level, scored)
        t_select += time.perf_counter() - t0
        # 6. H2O updates of all members
        t0 = time.perf_counter()
        metrics = self.train_members(c.costs[level])
        t_learn += time.perf_counter() - t0
        # 7. evaluate the MAP member every E rounds
        t0 = time.perf_counter()
        returns, calibration = (self.evaluate_map() if r % n.eval_every == 0
                                else (np.array([]), {}))
        t_eval = time.perf_counter() - t0
        costs = np.asarray(c.costs)
        record = RoundRecord(
            round=r, fidelity=level, fidelity_name=c.fidelities[level].name, cost=entry.cost,
            spent=entry.spent, remaining=entry.remaining, beta=beta, ig=ig.tolist(),
            ig_per_cost=(ig / costs).tolist(), posterior=self.posterior.probs.tolist(),
            entropy=self.posterior.entropy(), map_member=self.posterior.map_member(), eta=eta,
            eval_return=float(returns.mean()) if len(returns) else float("nan"),
            eval_returns=returns.tolist(), env_steps=int(self.sim.total_added),
            updates=self.learner.num_updates, time_sim=t_sim, time_learn=t_learn,
            time_select=t_select, time_eval=t_eval, time_round=time.perf_counter() - t_start,
            metrics={**(metrics_to_floats(metrics, "losses/") if metrics else {}),
                     **(metrics_to_floats(disc_metrics, "disc/") if disc_metrics else {}),
                     **calibration})
        self.records.append(record)
        return record

    def finish(self) -> None:
        """Evaluate the last round's MAP member if that round was not evaluated."""
        last = self.records[-1]
        if not last.evaluated:
            t0 = time.perf_counter()
            returns, calibration = self.evaluate_map()
            last.eval_return, last.eval_returns = float(returns.mean()), returns.tolist()
            last.metrics |= calibration
            last.time_eval += time.perf_counter() - t0

    def result(self, wall_time: float) -> RunResult:
        last = self.records[-1]
        return RunResult(strategy=self.config.strategy, budget=self.config.budget,
                         seed=self.config.seed,
                         fidelity_names=[f.name for f in self.config.fidelities],
                         costs=list(self.config.costs), records=list(self.records),
                         final_return=last.eval_return, final_map_member=last.map_member,
                         wall_time=wall_time)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {"learner": self.learner.state_dict(), "posterior": self.posterior.state_dict(),
                "budget": self.budget.state_dict(),
                "records": [r.to_dict() for r in self.records]}

    def load_state_dict(self, state: dict[str, Any], sim_ring: ReplayRing) -> None:
        self.learner.load_state_dict(state["learner"])
        self.posterior.load_state_dict(state["posterior"])
        self.budget.load_state_dict(state["budget"])
        self.records = [RoundRecord.from_dict(r) for r in state["records"]]
        self.sim = sim_ring
        n = self.config.online
        self._out["sim"] = self.sim.empty_batch(n.sim_batch, members=True, index=True)
        self._out["disc_sim"] = self.sim.empty_batch(n.disc_batch)


def run(config: RunConfig, *, out_dir: str | os.PathLike[str] | None = None,
        resume: bool = False, dataset: OfflineDataset | None = None,
        offline: dict[str, Any] | None = None, offline_cache: str | Path | None = None,
        progress: bool = False, tensorboard: bool = True) -> RunResult:
    """Run MF-HRL-IGM (or a baseline strategy) as ``config`` says.

    Args:
        config: the run (strategy, budget, seed, fidelities, dataset, offline, online).
        out_dir: folder for ``config.json``, ``rounds.jsonl``/``rounds.csv``, TensorBoard
            events (``tb/``) and a checkpoint after every round (``checkpoints/``).
        resume: continue from ``out_dir``'s latest checkpoint (same config required); a
            fresh start if it has none. Without it, a folder holding a run is an error.
        dataset: D_off already loaded (else ``load_dataset(config.dataset)``).
        offline: the offline phase's weights (``get_offline``), to share one offline phase
            among runs; else loaded from ``offline_cache`` / ``out_dir`` or trained.
        progress: show rich progress bars.
        tensorboard: write TensorBoard events (with ``out_dir``).
    """
    retain_freed_memory()
    if config.torch_threads is not None:
        torch.set_num_threads(config.torch_threads)
    folder = prepare_run_folder(out_dir, config, resume)
    dataset = dataset if dataset is not None else load_dataset(config.dataset, progress=progress)
    if offline is None:
        offline = get_offline(config, dataset, progress=progress,
                              cache_dir=offline_cache if offline_cache is not None else folder)
    exp = Experiment(config, dataset, offline)
    checkpoint = latest_checkpoint(folder / "checkpoints") if folder and resume else None
    if checkpoint is not None:
        state = load_state(checkpoint)
        exp.load_state_dict(state, ReplayRing.load(checkpoint / "sim_replay.bin"))
    else:
        exp.records.append(exp.offline_record())
    tb = TensorBoardLog(folder / "tb", purge_step=exp.budget.round + 1) if (
        folder is not None and tensorboard) else None
    if tb is not None and checkpoint is None:
        tb.write(exp.records[0])
    bar = Progress(f"{config.strategy} budget {config.budget:g}", config.budget, progress)
    start = time.perf_counter()
    try:
        while (record := exp.play_round()) is not None:
            if folder is not None:
                save_checkpoint(folder / "checkpoints", record.round, exp.state_dict(),
                                extra=lambda d: exp.sim.save(d / "sim_replay.bin"))
                write_tables(folder, exp.records)
            if tb is not None:
                tb.write(record)
            bar.update(record)
        exp.finish()
        if folder is not None:
            write_tables(folder, exp.records)
            if tb is not None:
                tb.write(exp.records[-1])
    finally:
        bar.close()
        if tb is not None:
            tb.close()
    return exp.result(time.perf_counter() - start)
