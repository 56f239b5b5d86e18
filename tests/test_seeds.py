from wsa_robot.core.seeds import bench_seed, demo_seed, eval_seed, final_seed, periodic_eval_seed, training_seed

STREAMS = (training_seed, periodic_eval_seed, eval_seed, bench_seed, demo_seed, final_seed)


def test_the_seed_streams_never_share_an_env_seed():
    """Env i of a stream is seeded stream + i: for any run seed and up to 64 envs no two streams meet."""
    for seed in (0, 1, 7, 123, 9_999):
        ranges = [set(range(stream(seed), stream(seed) + 64)) for stream in STREAMS]
        assert sum(map(len, ranges)) == len(set().union(*ranges))


def test_the_streams_keep_the_seeds_runs_were_evaluated_with():
    # changing an offset silently changes every reported number: eval/bench results would no longer reproduce
    assert [stream(3) for stream in STREAMS] == [3, 10_003, 20_003, 30_003, 40_003, 50_003]
