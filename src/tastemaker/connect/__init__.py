"""Expert Connect (达人通): brands find experts, agree deals on briefs, and pay through escrow on the ledger.

The expert directory (profiles, rate cards, the searchable directory) and deals (briefs, offers, escrow,
approval, disputes) live here; Delegated Headline (头条代投) is a promotion tool and lives in
``tastemaker.promotion``, which this app calls for a deal's standing authorisation.
"""
