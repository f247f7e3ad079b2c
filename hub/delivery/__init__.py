"""Pushing inbox items to partners' webhooks: a transactional outbox and its worker."""
