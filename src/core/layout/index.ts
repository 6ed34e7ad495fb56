// The dashboard's pure half: data for the webview and the architecture layout (positions as data).
export * from './types.js';
export { sharingStructure, STRUCTURE_INSTANCE_LIMIT } from './structure.js';
export { dashboardData, modelData, SWEEP_SEQ, DASHBOARD_TREE_NODES, type DashboardDataOptions } from './dashboard-data.js';
export { layoutArchitecture, defaultCollapsed, EXPAND_LIMIT, GEOMETRY, type LayoutOptions } from './layout.js';
export { LAYER_CLASSES, layerClassesOf, type LayerClass, type LayerClassDoc } from './layer-classes.js';
