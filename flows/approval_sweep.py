"""approval-sweep: audit approval waits that expired while suspended (reelfactory.expiry).

Deployed with a schedule on the ``cpu`` pool (infra/prefect.yaml). Runs that wait by
pausing audit their own expiry; this is for ``approval.wait: suspend``, whose runs have no
process left when Prefect fails them. ``reel sweep-expired`` does the same by hand.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from reelfactory.settings import Settings
from tasks.approve import sweep_expired

FLOW_NAME = "approval-sweep"


@flow(name=FLOW_NAME, log_prints=False)
def approval_sweep(grace_s: float = 120.0) -> list[str]:
    """Write the audit row and artifact of every expired suspended wait not audited yet."""
    written = sweep_expired(Settings(), grace_s)
    logger = get_run_logger()
    for wait in written:
        logger.info(
            "run %s (brief %s): %s wait expired, audited",
            wait.flow_run_id,
            wait.brief_id,
            wait.step,
        )
    logger.info("%d expired waits audited", len(written))
    return [w.flow_run_id for w in written]
