from tests.clustering.conftest import fresh_settings  # noqa: F401  (same fixture)
