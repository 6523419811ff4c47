package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// lambdaBase is what every Go Lambda of the components starts from: the deploying account and region, the log
// group Lambda writes to (/aws/lambda/<name>, named before the function so that its retention applies from the
// first line) and the role Lambda assumes for the function, trusted by this account's Lambda only.
type lambdaBase struct {
	env      awsEnv
	logGroup *cloudwatch.LogGroup
	role     *iam.Role
}

// newLambdaBase creates the log group <name>-logs and the role <name>-role as children of parent.
func newLambdaBase(ctx *pulumi.Context, name string, logRetentionDays int, parent pulumi.ResourceOrInvokeOption) (lambdaBase, error) {
	env, err := lookupAWSEnv(ctx, parent)
	if err != nil {
		return lambdaBase{}, err
	}
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/lambda/" + name),
		RetentionInDays: pulumi.Int(logRetentionDays),
	}, parent)
	if err != nil {
		return lambdaBase{}, err
	}
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(mustJSON(serviceTrust("lambda.amazonaws.com", env.account))),
	}, parent)
	if err != nil {
		return lambdaBase{}, err
	}
	return lambdaBase{env: env, logGroup: logGroup, role: role}, nil
}

// lambdaSettingErrors names what is wrong with the settings every Go Lambda of the components takes besides its
// timeout: memory and log retention.
func lambdaSettingErrors(memoryMB, logRetentionDays int) []error {
	var errs []error
	if memoryMB < 128 || memoryMB > 10240 {
		errs = append(errs, fmt.Errorf("MemoryMB: %d is outside 128..10240", memoryMB))
	}
	if !validLogRetention(logRetentionDays) {
		errs = append(errs, fmt.Errorf("LogRetentionDays: %d is not a CloudWatch Logs retention period", logRetentionDays))
	}
	return errs
}

// resolveModuleRoot fills an empty module root with the one holding the working directory's go.mod, and says
// why when there is none.
func resolveModuleRoot(root *string) error {
	if *root != "" {
		return nil
	}
	found, err := FindModuleRoot(".")
	if err != nil {
		return fmt.Errorf("ModuleRoot: %w", err)
	}
	*root = found
	return nil
}
