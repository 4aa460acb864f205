local job(name, expr) = {
  name: name,
  scheduleExpression: expr,
  taskDefinition: 'task1',
};
{
  region: 'us-east-1',
  cluster: 'api',
  rules: [
    job('nightly', 'cron(0 0 * * ? *)'),
    job('broken', 'cron(0 0 * * 8 *)'),
    { name: 'typo', scheduleExpresion: 'rate(1 day)', taskDefinition: 'task1' },
  ],
}
