local base = import 'no-such-file.libsonnet';
base {
  region: 'us-east-1',
  rules: [],
}
