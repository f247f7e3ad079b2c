"""The sharing use cases: referrals, alerts, the inbox, status, corrections, retention."""
