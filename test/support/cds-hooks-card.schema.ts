import Ajv from 'ajv';

/**
 * CDS Hooks 2.0.1 response and card shape, written from the spec text (independently of the service's
 * own types) so a test can tell a spec-valid answer from one that merely matches our code.
 */
const cardSchema = {
  type: 'object',
  required: ['summary', 'indicator', 'source'],
  properties: {
    uuid: { type: 'string' },
    summary: { type: 'string', minLength: 1, maxLength: 139 },
    detail: { type: 'string' },
    indicator: { enum: ['info', 'warning', 'critical'] },
    source: {
      type: 'object',
      required: ['label'],
      properties: {
        label: { type: 'string', minLength: 1 },
        url: { type: 'string' },
        icon: { type: 'string' },
        topic: {
          type: 'object',
          properties: { system: { type: 'string' }, code: { type: 'string' }, display: { type: 'string' } },
        },
      },
    },
    suggestions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['label'],
        properties: {
          label: { type: 'string', minLength: 1 },
          uuid: { type: 'string' },
          isRecommended: { type: 'boolean' },
          actions: {
            type: 'array',
            items: {
              type: 'object',
              required: ['type', 'description'],
              properties: {
                type: { enum: ['create', 'update', 'delete'] },
                description: { type: 'string' },
                resource: { type: 'object', required: ['resourceType'] },
                resourceId: { type: 'string' },
              },
            },
          },
        },
      },
    },
    selectionBehavior: { enum: ['at-most-one', 'any'] },
    overrideReasons: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'display'],
        properties: { code: { type: 'string' }, system: { type: 'string' }, display: { type: 'string', minLength: 1 } },
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        required: ['label', 'url', 'type'],
        properties: {
          label: { type: 'string' },
          url: { type: 'string' },
          type: { enum: ['absolute', 'smart'] },
          appContext: { type: 'string' },
        },
      },
    },
  },
} as const;

const responseSchema = {
  type: 'object',
  required: ['cards'],
  properties: { cards: { type: 'array', items: cardSchema }, systemActions: { type: 'array' } },
} as const;

const ajv = new Ajv({ allErrors: true });
export const validateCdsResponse = ajv.compile(responseSchema);
