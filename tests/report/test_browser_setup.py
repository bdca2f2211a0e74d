"""The browser tests skip, naming the install command, when Chromium is missing; they carry the `browser` mark."""

import pytest
from chromium_setup import INSTALL, require_chromium


def test_missing_chromium_skips_with_the_install_command(tmp_path):
    with pytest.raises(pytest.skip.Exception, match=INSTALL):
        require_chromium(tmp_path / "chromium")


def test_tests_that_use_chromium_are_marked_browser(request, chromium):
    assert request.node.get_closest_marker("browser") is not None


def test_tests_without_chromium_are_not(request):
    assert request.node.get_closest_marker("browser") is None
