export * from './clinical-summary';
export * from './findings';
export * from './meditron-prompt';
export * from './hook-prompt';
