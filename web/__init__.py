"""The shell: settings, the `strongroom` CLI, the Flask app, and the wiring of adapters into use cases."""
