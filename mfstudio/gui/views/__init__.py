"""The views: each shows one side of the experiment and subscribes to the controller; none reads another."""
