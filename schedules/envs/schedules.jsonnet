// Staging and production from one file. Pick the environment on the command line:
//
//   ecsched -c schedules/envs/schedules.jsonnet --ext-str ENV=staging diff
//   ecsched -c schedules/envs/schedules.jsonnet --ext-str ENV=prod apply
//
// Everything that differs between environments lives in `settings`; the rules are written once.
// Non-string fields (taskCount, disabled) stay typed, which templates in YAML cannot guarantee.
local env = std.extVar('ENV');

local settings = {
  staging: {
    cluster: 'app-staging',
    taskCount: 1,
    disabled: true,  // the staging batch exists but does not run on its own
    nightly: 'cron(0 3 * * ? *)',
    subnets: ['subnet-0aaaaaaaaaaaaaaa1'],
    securityGroups: ['sg-0aaaaaaaaaaaaaaa1'],
  },
  prod: {
    cluster: 'app-production',
    taskCount: 2,
    disabled: false,
    nightly: 'cron(0 18 * * ? *)',
    subnets: ['subnet-0bbbbbbbbbbbbbbb1', 'subnet-0bbbbbbbbbbbbbbb2'],
    securityGroups: ['sg-0bbbbbbbbbbbbbbb1'],
  },
};

assert std.objectHas(settings, env) :
       'ENV must be one of %s, not %s' % [std.join(', ', std.objectFields(settings)), env];
local s = settings[env];

local network = {
  aws_vpc_configuration: {
    subnets: s.subnets,
    security_groups: s.securityGroups,
    assign_public_ip: 'DISABLED',
  },
};

{
  region: 'us-east-1',
  cluster: s.cluster,
  // One trackingId per environment: each one's rules are managed (and pruned) separately.
  trackingId: 'app-' + env,
  role: 'ecsEventsRole',
  rules: [
    {
      name: 'app-%s-nightly-report' % env,
      description: 'nightly report (%s)' % env,
      scheduleExpression: s.nightly,
      taskDefinition: 'app-%s-report' % env,
      taskCount: s.taskCount,
      disabled: s.disabled,
      launch_type: 'FARGATE',
      network_configuration: network,
      containerOverrides: [
        {
          name: 'app',
          command: ['bin/report', '--env', env],
          environment: { APP_ENV: env },
        },
      ],
    },
    {
      name: 'app-%s-cleanup' % env,
      description: 'hourly cleanup (%s)' % env,
      scheduleExpression: 'rate(1 hour)',
      taskDefinition: 'app-%s-cleanup' % env,
      launch_type: 'FARGATE',
      network_configuration: network,
    },
  ],
}
