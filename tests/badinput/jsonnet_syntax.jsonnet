{
  region: 'us-east-1',
  rules: [
    { name: 'a' scheduleExpression: 'rate(1 day)' },
  ],
}
