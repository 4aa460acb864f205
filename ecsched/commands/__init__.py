"""One module per subcommand; see ecsched.cli for the interface. Modules import boto3 lazily."""
