"""Framework-neutral HTTP: the request/response types adapters translate, routing of the
``/auth`` API, and the single mapping of errors to responses."""
