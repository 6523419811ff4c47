// Package components holds agent-audit's Pulumi component resources, each usable on its own from any Pulumi Go
// program:
//
//   - AuditBucket: the S3 audit store with Object Lock, versioning, SSE-KMS under its own key, lifecycle by
//     retention and a TLS-only policy;
//   - AuditFirehose: the Firehose delivery stream into it (GZIP, Hive-partitioned prefixes, error logging) and a
//     role allowed exactly what delivery needs;
//   - AgentModel: the Bedrock application inference profile and the policy to invoke it;
//   - AgentFunction: the Go Lambda, built from source for provided.al2023 on arm64 by the program itself;
//   - SigningKey: the asymmetric KMS key (ECDSA P-256) that certifies the key each container seals its audit
//     records with, kms:Sign through IAM only, and its public key as PEM;
//   - DigestWriter: the digest Lambda, run every period by EventBridge Scheduler, which writes a signed digest of
//     the audit bucket's object versions under digests/, with its own role and its own SigningKey;
//   - LogfireSecret: the Logfire write token in an SSM SecureString, read by the function at first invoke;
//   - UsageAlarm: a daily token alarm emailed through SNS;
//   - OperatorRole: the role a person assumes to call the model locally.
//
// Components never read stack configuration: the program passes Args, which makes them reusable. Every IAM
// policy is built from PolicyDocument, so a program's policies can be checked as plain JSON.
package components
