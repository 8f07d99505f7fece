"""Serve the flows in this process: ``python -m flows`` (what ``reel up`` runs)."""

from __future__ import annotations

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.campaign_batch import DEPLOYMENT_NAME as CAMPAIGN_DEPLOYMENT_NAME
from flows.campaign_batch import campaign_batch
from flows.produce_video import DEPLOYMENT_NAME, produce_video
from flows.render_shots import DEPLOYMENT_NAME as RENDER_DEPLOYMENT_NAME
from flows.render_shots import render_shots


def main() -> None:
    deployments = [
        produce_video.to_deployment(name=DEPLOYMENT_NAME),
        render_shots.to_deployment(name=RENDER_DEPLOYMENT_NAME),
        campaign_batch.to_deployment(name=CAMPAIGN_DEPLOYMENT_NAME),
    ]
    for deployment in deployments:  # sync calls of async-dispatching methods
        assert isinstance(deployment, RunnerDeployment)
    serve(*deployments, print_starting_message=True)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
