// Helpers for reading the Grafana dashboard in deploy/grafana/ from tests.
import { readFileSync } from 'node:fs';

export interface DashboardTarget {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
  [key: string]: unknown;
}

export interface DashboardPanel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
  [key: string]: unknown;
}

export interface DashboardVariable {
  name: string;
  type: string;
  [key: string]: unknown;
}

export interface Dashboard {
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
  [key: string]: unknown;
}

/**
 * Values used in place of Grafana's template variables so each query becomes
 * plain PromQL: every stick selected, the rate interval and step of a 15 s
 * scrape interval.
 */
export const TEMPLATE_VALUES: Readonly<Record<string, string>> = {
  instance: '.*',
  __rate_interval: '1m',
  __interval: '15s',
};

export function loadDashboard(path: string): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every panel, depth first, including the panels inside collapsed rows. */
export function allPanels(panels: readonly DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/**
 * Replaces $name and ${name} (also ${name:format}) for the names in `values`
 * (TEMPLATE_VALUES unless given). Unknown variables are left untouched so callers notice them.
 */
export function substituteTemplateVariables(
  expr: string,
  values: Readonly<Record<string, string>> = TEMPLATE_VALUES,
): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (match: string, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return values[name] ?? match;
  });
}

/** All PromQL target expressions of the dashboard at `path`, variables substituted. */
export function dashboardQueries(path: string): string[] {
  return allPanels(loadDashboard(path).panels)
    .flatMap((panel) => panel.targets ?? [])
    .map((target) => target.expr)
    .filter((expr): expr is string => typeof expr === 'string' && expr.trim() !== '')
    .map((expr) => substituteTemplateVariables(expr));
}
