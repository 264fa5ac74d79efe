"""collect: Minari datasets of HalfCheetah-v5 through SimPool that Minari and our loader
read alike, that replay in Gymnasium, and that the same seed reproduces."""

from __future__ import annotations

import gymnasium as gym
import minari
import numpy as np
import pytest

from mfhrl_fast import SimPool
from mfhrl_fast.data import (
    CollectConfig,
    EpisodeRecorder,
    SinusoidGait,
    UniformRandomPolicy,
    from_minari,
    run_pool,
)

from data_support import SMALL, GaitTrainer, collect_small, episode_returns

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminals", "timeouts")


def minari_arrays(dataset_id: str) -> dict[str, np.ndarray]:
    """The transitions of a Minari dataset, built from Minari's own episodes."""
    eps = list(minari.load_dataset(dataset_id).iterate_episodes())
    return {"observations": np.concatenate([e.observations[:-1] for e in eps]),
            "actions": np.concatenate([e.actions for e in eps]),
            "rewards": np.concatenate([e.rewards for e in eps]),
            "next_observations": np.concatenate([e.observations[1:] for e in eps]),
            "terminals": np.concatenate([e.terminations for e in eps]),
            "timeouts": np.concatenate([e.truncations for e in eps])}


def test_random_dataset_loads_alike_in_minari_and_our_loader(minari_home):
    result = collect_small("random", steps=320)
    assert result.dataset_id == "mfhrl/halfcheetah/random-v0"
    assert (result.transitions, result.episodes) == (320, 9)
    ours = from_minari(result.dataset_id)
    theirs = minari_arrays(result.dataset_id)
    for name in FIELDS:
        expected = theirs[name] if theirs[name].dtype == bool else theirs[name].astype(np.float32)
        np.testing.assert_array_equal(getattr(ours, name), expected, err_msg=name)
    m = minari.load_dataset(result.dataset_id)
    assert m.observation_space.dtype == np.float64 and m[0].observations.dtype == np.float64
    assert m.spec.env_spec.id == "HalfCheetah-v5" and m.spec.env_spec.max_episode_steps == 50
    meta = ours.metadata
    assert meta["ref_min_score"] == -280.178953 and meta["ref_max_score"] == 12135.0
    info = meta["mfhrl_fast"]
    assert info["kind"] == "random" and info["steps"] == 320 and info["seeds"]["pool"] == 0
    assert info["package_version"] and info["config"]["num_envs"] == 3
    assert info["policy_returns"]["count"] == 6  # 6 complete 50-step episodes, 3 cut
    assert -60 < info["policy_returns"]["mean"] < 0  # random actions: about -0.3 per step


def test_episodes_replay_in_gymnasium_to_the_same_rewards(minari_home):
    collect_small("random", steps=200)
    dataset = minari.load_dataset("mfhrl/halfcheetah/random-v0")
    states = list(dataset.storage.get_episode_metadata(range(3)))
    env = gym.make("HalfCheetah-v5")
    env.reset(seed=0)
    for episode, state in zip(dataset.iterate_episodes(range(3)), states, strict=True):
        sim = env.unwrapped
        sim.set_state(state["initial_qpos"], state["initial_qvel"])
        np.testing.assert_array_equal(sim._get_obs(), episode.observations[0])
        for t, action in enumerate(episode.actions):
            obs, reward, terminated, _, _ = env.step(action.astype(np.float64))
            assert reward == pytest.approx(episode.rewards[t], rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(obs, episode.observations[t + 1], rtol=1e-12, atol=1e-12)
            assert terminated == episode.terminations[t]
    env.close()


def test_same_seed_same_dataset_other_seed_differs(minari_home):
    for dataset_id, seed in (("test/a-v0", 4), ("test/b-v0", 4), ("test/c-v0", 5)):
        collect_small("random", steps=150, seed=seed, dataset_id=dataset_id, num_threads=2)
    a, b, c = (from_minari(f"test/{x}-v0") for x in "abc")
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert not np.array_equal(a.observations, c.observations)
    assert not np.array_equal(a.actions, c.actions)


def test_medium_rolls_out_the_given_policy_and_records_its_return(minari_home):
    result = collect_small("medium", steps=300, policy=SinusoidGait())
    stats = result.metadata["policy_returns"]
    assert result.metadata["policy"].startswith("SinusoidGait") and stats["count"] == 6
    d = from_minari("mfhrl/halfcheetah/medium-v0")
    assert stats["mean"] == pytest.approx(np.mean(d.episode_returns()), rel=1e-5)
    gait = episode_returns(SinusoidGait(), max_episode_steps=1000)
    random = episode_returns(UniformRandomPolicy(), max_episode_steps=1000)
    assert gait.min() > 900 and random.max() < 0
    # the gait is deterministic and so are the pool's resets: a re-run gives the same data
    collect_small("medium", steps=300, policy=SinusoidGait(), dataset_id="test/again-v0")
    np.testing.assert_array_equal(from_minari("test/again-v0").observations, d.observations)


def test_medium_with_any_torch_policy(minari_home):
    torch = pytest.importorskip("torch")

    class MLPPolicy:
        def __init__(self) -> None:
            torch.manual_seed(0)
            self.net = torch.nn.Sequential(torch.nn.Linear(17, 16), torch.nn.Tanh(),
                                           torch.nn.Linear(16, 6), torch.nn.Tanh())

        @torch.no_grad()
        def act(self, obs):
            return self.net(torch.as_tensor(obs, dtype=torch.float32)).numpy()

    result = collect_small("medium", steps=100, policy=MLPPolicy())
    d = from_minari(result.dataset_id)
    with torch.no_grad():
        expected = MLPPolicy().net(torch.as_tensor(d.observations)).numpy()
    np.testing.assert_allclose(d.actions, expected, atol=1e-5)


def test_medium_trains_a_trainer_to_the_target_then_rolls_it_out(minari_home):
    trainer = GaitTrainer()
    result = collect_small("medium", steps=150, trainer=trainer, target_return=200,
                           eval_every=99)
    meta = result.metadata
    assert [list(e) for e in meta["evaluations"]] == [[99, 99.0], [198, 198.0], [297, 297.0]]
    stored = from_minari(result.dataset_id).metadata["mfhrl_fast"]
    assert stored["evaluations"] == [[99, 99.0], [198, 198.0], [297, 297.0]]
    assert meta["steps_trained"] == 297 and meta["policy_eval_return"] == 297.0
    assert meta["seeds"]["train_pool"] == 1_000_000 and result.transitions == 150
    assert result.policy.amplitude == trainer.gait.amplitude  # the frozen policy rolled out
    with pytest.raises(RuntimeError, match="reached 60.0 < target_return 1000"):
        collect_small("medium", steps=30, trainer=GaitTrainer(), target_return=1000,
                      train_steps=60, eval_every=30, dataset_id="test/never-v0")


def test_replay_records_every_transition_the_trainer_saw(minari_home):
    trainer = GaitTrainer(ramp=300)
    result = collect_small("replay", steps=240, trainer=trainer, eval_every=60)
    assert result.transitions == trainer.steps == 240
    assert [e[0] for e in result.metadata["evaluations"]] == [60, 120, 180, 240]
    d = from_minari(result.dataset_id)
    amplitude = np.abs(d.actions)  # the gait's amplitude grew as the trainer observed steps
    assert amplitude[:10].max() < 0.3 and amplitude[-10:].max() > 0.7
    stopped = collect_small("replay", steps=240, trainer=GaitTrainer(), eval_every=60,
                            target_return=100, dataset_id="test/stop-v0")
    assert stopped.transitions == stopped.metadata["steps_trained"] == 120


def test_config_and_argument_errors(minari_home):
    with pytest.raises(ValueError, match="kind must be one of"):
        CollectConfig(kind="expert")
    with pytest.raises(ValueError, match="steps must be >= 1"):
        CollectConfig(steps=0)
    with pytest.raises(ValueError, match="needs a policy, or a target_return"):
        collect_small("medium")
    with pytest.raises(ValueError, match="not both"):
        collect_small("medium", policy=SinusoidGait(), trainer=GaitTrainer())
    with pytest.raises(ValueError, match="takes no policy"):
        collect_small("random", policy=SinusoidGait())
    with pytest.raises(ValueError, match="pass trainer="):
        collect_small("replay", policy=SinusoidGait())
    with pytest.raises(ValueError, match="Malformed dataset ID"):
        collect_small("random", dataset_id="no version")
    collect_small("random", steps=60)
    with pytest.raises(FileExistsError, match="overwrite"):
        collect_small("random", steps=60)
    assert collect_small("random", steps=90, overwrite=True).transitions == 90
    assert from_minari("mfhrl/halfcheetah/random-v0").summary().transitions == 90

    class Wrong:
        def act(self, obs):
            return np.zeros((len(obs), 5))

    with pytest.raises(ValueError, match=r"shape \(3, 5\), expected \(3, 6\)"):
        collect_small("medium", policy=Wrong(), dataset_id="test/wrong-v0")


def test_recorder_cuts_unrecorded_and_keeps_exact_initial_states():
    pool = SimPool(num_envs=2, seed=7, max_episode_steps=4)
    recorder = EpisodeRecorder(pool)
    assert run_pool(pool, SinusoidGait(), 11, recorder=recorder) == 11
    lengths = [(len(e.rewards), e.truncated, e.cut) for e in recorder.episodes]
    # env 0: 4 + 2 (cut at the end); env 1: 4 + 1 (not recorded in the last pool step)
    assert sorted(lengths) == [(1, True, True), (2, True, True), (4, True, False),
                               (4, True, False)]
    first = recorder.episodes[0]
    fresh = SimPool(num_envs=2, seed=7, max_episode_steps=4)
    fresh.reset()
    qpos, qvel = fresh.get_state()
    np.testing.assert_array_equal(first.initial_qpos, qpos[0])
    np.testing.assert_array_equal(first.initial_qvel, qvel[0])
    assert first.observations.shape == (5, 17) and first.actions.dtype == np.float32


def test_small_config_keys_are_config_fields():
    assert set(SMALL) <= set(CollectConfig.__dataclass_fields__)
