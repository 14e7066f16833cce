"""Framework adapters: thin translation between a framework's request/response and bastion's."""
