// The CLI's number renderings are the core's, so tables read like hovers and the dashboard.
export { formatBytes, formatFlops, formatSeconds, groupDigits } from '../core/text/number-format.js';
