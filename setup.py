"""What setup.cfg cannot say: the top-level migrations/ folder ships inside the package.

Flask-Migrate users expect migrations/ at the top of the repository; an installed copy needs it
beside the code, as openregister/migrations, where create_app looks first.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["openregister", "openregister.*"])
    + ["openregister.migrations", "openregister.migrations.versions"],
    package_dir={"openregister.migrations": "migrations"},
    package_data={"openregister.migrations": ["README", "alembic.ini", "script.py.mako"]},
)
