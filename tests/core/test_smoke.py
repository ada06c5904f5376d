from threaded_order import Scheduler


def test_dependents_see_upstream_results():
    s = Scheduler(workers=2)

    @s.dregister()
    def a():
        return 1

    @s.dregister(after="a", with_state=True)
    def b(state):
        return state["results"]["a"] + 1

    summary = s.start()
    assert summary["passed"] == ["a", "b"]
    assert s.state["results"] == {"a": 1, "b": 2}
