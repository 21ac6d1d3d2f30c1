"""The help-desk console: cases from intake, fleet run reports, a dashboard and the tenant view.

``odfix serve`` runs it (``odfix.commands.serve``); ``app.create_app`` builds the ASGI app.
Routes only parse, call the library (evidence, diagnosis, tenant, publish) and render: nothing
here decides a cause or a plan. Needs the ``console`` extra (FastAPI, SQLAlchemy, Alembic, ...).
"""
