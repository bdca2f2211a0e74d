"""Tests that start the moto server carry the `aws` mark, so `pytest -m "not aws"` leaves them out."""


def test_tests_that_use_moto_are_marked_aws(request, moto_url):
    assert request.node.get_closest_marker("aws") is not None


def test_tests_without_moto_are_not(request):
    assert request.node.get_closest_marker("aws") is None
