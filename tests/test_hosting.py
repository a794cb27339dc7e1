"""Each hosting platform is told apart by the variables it sets; a laptop or CI by none."""

import pytest

from bot.hosting import CLOUD_RUN, FLY, HEROKU, RAILWAY, RENDER, SCALINGO, detect_platform


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"DYNO": "web.1", "PORT": "5000"}, HEROKU),
        ({"DYNO": "release.4242"}, HEROKU),
        ({"CONTAINER": "web-1", "CONTAINER_VERSION": "0f3c9a1", "APP": "chai-point"}, SCALINGO),
        ({"K_SERVICE": "shop", "K_REVISION": "shop-00002-xyz"}, CLOUD_RUN),
        ({"CLOUD_RUN_JOB": "migrate"}, CLOUD_RUN),
        ({"RENDER": "true", "RENDER_SERVICE_ID": "srv-1"}, RENDER),
        ({"RAILWAY_ENVIRONMENT": "production"}, RAILWAY),
        ({"RAILWAY_PROJECT_ID": "7c1e"}, RAILWAY),
        ({"FLY_APP_NAME": "chai-point"}, FLY),
    ],
)
def test_each_platform_is_recognised(env: dict[str, str], platform: object) -> None:
    assert detect_platform(env) is platform


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"PORT": "8080", "HOME": "/home/asha"},
        # Heroku CI runs the tests on a dyno, with a database of its own.
        {"DYNO": "run.1", "CI": "true"},
        {"DYNO": ""},
        # A container on a laptop: one of Scalingo's three variables is not Scalingo.
        {"CONTAINER": "podman"},
    ],
)
def test_a_laptop_a_vps_or_ci_is_no_platform(env: dict[str, str]) -> None:
    assert detect_platform(env) is None


def test_only_platforms_without_a_disk_say_how_to_get_postgres() -> None:
    for platform in (HEROKU, SCALINGO, CLOUD_RUN, RENDER, RAILWAY, FLY):
        assert platform.persistent_disk is (platform.how_to_add_postgres is None), platform.name
    assert HEROKU.how_to_add_postgres == "heroku addons:create heroku-postgresql:essential-0"
