"""The reference API of the memory service: store and recall a tenant's memories (images/api)."""
