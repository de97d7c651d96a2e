"""The tuner's notebook runner, shipped inside the tuner and run by Debian's /usr/bin/python3.

analyse  reads the notebook's tagged cells as JSON on standard input and prints, as JSON, what each step reads
         and writes: the pipeline parameters it reads, the variables it loads from which earlier step, the
         variables it saves for later steps, and one error per problem (naming the cell).
run      runs one step: builds a notebook of (load upstream variables, this trial's parameters, imports and
         functions, the step's cells, save what later steps read, print the pipeline metrics), executes it with
         nbclient on the python3 kernel, echoes its output as it comes (so name=value lines are metrics) and
         writes the executed notebook into the step's outputs and the step's folder, a failure's traceback
         included. The step comes in TUNER_NOTEBOOK_STEP (JSON); arguments: --param NAME=VALUE,
         --input STEP=DIR, --outputs DIR.

Static analysis is done here, with Python's own ast and symtable (after IPython's transformer has turned magics
into calls), rather than in C#: Python is the only faithful reader of Python syntax.
"""
import argparse
import ast
import base64
import builtins
import json
import os
import shutil
import sys
import symtable

BUILTINS = set(dir(builtins)) | {"get_ipython", "display", "__name__", "__file__", "In", "Out", "exit", "quit"}


TIMING = ("%%time", "%%timeit", "%%capture")


def python_source(source):
    """Cell source with IPython's magics (%, !) turned into calls, so ast reads it; the code that timing magics
    (%time, %timeit, %%time, ...) run is kept as code, since it is what the cell reads and writes."""
    lines = source.splitlines()
    if lines and lines[0].strip().split(" ")[0] in TIMING:
        lines = lines[1:]
    lines = [line.split(" ", 1)[1] if line.split(" ")[0] in ("%time", "%timeit") and " " in line else line for line in lines]
    source = "\n".join(lines)
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except ImportError:
        return source


def first_line(source):
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def where(cell):
    return f"cell {cell['index']} ({first_line(cell['source'])[:60]})"


def table_reads(table):
    """Names a scope and the scopes inside it read from the module's namespace."""
    reads = set()
    for symbol in table.get_symbols():
        if table.get_type() == "module":
            if symbol.is_referenced():
                reads.add(symbol.get_name())
        elif symbol.is_global() and symbol.is_referenced():
            reads.add(symbol.get_name())
    for child in table.get_children():
        reads |= table_reads(child)
    return reads


def statement_names(statement, source):
    """(reads, writes) of one top-level statement: what it reads before writing it, what it defines."""
    text = ast.get_source_segment(source, statement) or ast.unparse(statement)
    table = symtable.symtable(text, "<cell>", "exec")
    writes = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    return table_reads(table), writes


def cell_statements(cell, errors):
    source = python_source(cell["source"])
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        errors.append(f"{where(cell)}: syntax error at line {e.lineno}: {e.msg}")
        return []
    result = []
    for statement in tree.body:
        try:
            result.append(statement_names(statement, source))
        except SyntaxError as e:
            errors.append(f"{where(cell)}: {e.msg}")
    return result


def analyse(notebook):
    errors = []
    parameters = {}
    for cell in notebook["parameters"]:
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError as e:
            errors.append(f"{where(cell)}: syntax error at line {e.lineno}: {e.msg}")
            continue
        for statement in tree.body:
            ok = (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                  and isinstance(statement.targets[0], ast.Name))
            if ok:
                try:
                    value = ast.literal_eval(statement.value)
                except ValueError:
                    ok = False
            if not ok:
                errors.append(f"{where(cell)}: a pipeline-parameters cell holds plain assignments only "
                              f"(name = literal); line {statement.lineno} is not one")
                continue
            parameters[statement.targets[0].id] = {"value": ast.unparse(statement.value), "string": isinstance(value, str)}

    metrics = []
    if notebook.get("metrics"):
        cell = notebook["metrics"]
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError as e:
            tree = ast.Module(body=[], type_ignores=[])
            errors.append(f"{where(cell)}: syntax error at line {e.lineno}: {e.msg}")
        for statement in tree.body:
            value = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(value, ast.Name):
                metrics.append(value.id)
            elif (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "print"
                  and all(isinstance(a, ast.Name) for a in value.args) and value.args):
                metrics.extend(a.id for a in value.args)
            else:
                errors.append(f"{where(cell)}: a pipeline-metrics cell names variables (accuracy, or print(accuracy)); "
                              f"line {statement.lineno} does not")

    # What imports and functions cells define is in every step; what they read of the parameters, every step reads.
    prelude_writes, prelude_params = set(), set()
    for cell in notebook["imports"] + notebook["functions"]:
        for reads, writes in cell_statements(cell, errors):
            prelude_params |= (reads - prelude_writes) & parameters.keys()
            prelude_writes |= writes

    writes_of, steps = {}, {}
    for step in notebook["steps"]:
        defined = set(prelude_writes)
        params, inputs = set(prelude_params), {}
        statements = [(cell, names) for cell in step["cells"] for names in cell_statements(cell, errors)]
        if step["name"] == notebook.get("metricsStep"):
            statements = [({"index": notebook["metrics"]["index"], "source": notebook["metrics"]["source"]}, (set(metrics), set()))]
        for cell, (reads, writes) in statements:
            for name in sorted(reads - defined - BUILTINS):
                if name in parameters:
                    params.add(name)
                    continue
                producer = next((s for s in reversed(step["ancestors"]) if name in writes_of.get(s, ())), None)
                if producer is None:
                    errors.append(f"{where(cell)}: reads {name}, which no step before it defines "
                                  f"(step {step['name']} follows {', '.join(step['ancestors']) or 'no step'})")
                    defined.add(name)
                else:
                    inputs[name] = producer
            defined |= writes
        writes_of[step["name"]] = defined - prelude_writes
        steps[step["name"]] = {"parameters": sorted(params), "inputs": inputs, "outputs": []}
    for name, step in steps.items():
        for variable, producer in step["inputs"].items():
            if variable not in steps[producer]["outputs"]:
                steps[producer]["outputs"].append(variable)
    for step in steps.values():
        step["outputs"].sort()
    return {"parameters": parameters, "metrics": metrics, "steps": steps, "errors": errors}


# The cells the runner adds around a step's own, by tag: an error in one names it, having no cell of the notebook to name.
TUNER_CELLS = {
    "tuner:load": "the cell that loads the variables of the steps before it",
    "pipeline-parameters": "the cell that sets the trial's parameters",
    "tuner:save": "the cell that saves its variables for the steps after it",
    "pipeline-metrics": "the cell that prints its metrics",
}

LOAD = """\
try:
    import dill as _tuner_pickle
except ImportError:
    import pickle as _tuner_pickle
def _tuner_load(path):
    with open(path, "rb") as f:
        return _tuner_pickle.load(f)
"""

SAVE = """\
import os as _tuner_os
try:
    import dill as _tuner_pickle
except ImportError:
    import pickle as _tuner_pickle
_tuner_os.makedirs({folder!r}, exist_ok=True)
for _tuner_name in {names!r}:
    try:
        with open(_tuner_os.path.join({folder!r}, _tuner_name + ".pkl"), "wb") as _tuner_file:
            _tuner_pickle.dump(globals()[_tuner_name], _tuner_file)
    except Exception as _tuner_error:
        raise RuntimeError(f"variable {{_tuner_name}} of step {step} cannot be saved: {{_tuner_error}}") from None
"""


def code_cell(source, index=None, tags=()):
    import nbformat
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    if index is not None:
        cell.metadata["tuner"] = {"cell": index}
    return cell


def step_notebook(step, values, inputs, outputs):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["tuner"] = {"step": step["name"]}
    if step["inputs"]:
        lines = [LOAD] + [f"{v} = _tuner_load({os.path.join(inputs[s], 'vars', v + '.pkl')!r})"
                          for v, s in sorted(step["inputs"].items())]
        nb.cells.append(code_cell("\n".join(lines), tags=["tuner:load"]))
    assignments = []
    for name, parameter in sorted(step["parameters"].items()):
        if name in values:
            text = values[name]
            assignments.append(f"{name} = {text!r}" if parameter["string"] else f"{name} = {text}")
        else:
            assignments.append(f"{name} = {parameter['value']}")
    if assignments:
        nb.cells.append(code_cell("\n".join(assignments), tags=["pipeline-parameters"]))
    for cell in step["prelude"] + step["cells"]:
        nb.cells.append(code_cell(cell["source"], cell["index"], cell.get("tags", ())))
    if step["outputs"]:
        nb.cells.append(code_cell(SAVE.format(folder=os.path.join(outputs, "vars"), names=step["outputs"], step=step["name"]),
                                  tags=["tuner:save"]))
    if step.get("metrics"):
        nb.cells.append(code_cell("\n".join(f"print({m!r} + '=' + str({m}))" for m in step["metrics"]), tags=["pipeline-metrics"]))
    return nb


def run(arguments):
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as e:
        sys.exit(f"a notebook step needs Debian's python3-nbclient and python3-ipykernel (and python3-dill): {e}")

    parser = argparse.ArgumentParser(prog="notebook_runner.py run")
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--outputs", required=True)
    parser.add_argument("--workdir", default=os.getcwd())
    args = parser.parse_args(arguments)
    step = json.loads(base64.b64decode(os.environ["TUNER_NOTEBOOK_STEP"]))
    values = dict(p.split("=", 1) for p in args.param)
    inputs = dict(i.split("=", 1) for i in args.input)

    # The executed notebooks of the steps before this one, taken from the cache, join this trial's folder too.
    step_dir = os.environ.get("TUNER_STEP_DIR")
    if step_dir:
        for upstream, folder in inputs.items():
            source = os.path.join(folder, "executed.ipynb")
            target = os.path.join(os.path.dirname(step_dir), upstream, "executed.ipynb")
            if os.path.exists(source) and not os.path.exists(target):
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target)

    nb = step_notebook(step, values, inputs, args.outputs)
    # The kernel's debugger warns on stderr at every start that it cannot check frozen modules: noise in every step's log.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"

    class EchoingClient(NotebookClient):
        """Echoes each cell's output as it comes, so name=value lines reach the tuner while the step runs."""

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream":
                (sys.stdout if content.get("name") == "stdout" else sys.stderr).write(content.get("text", ""))
                sys.stdout.flush()
            return super().output(outs, msg, display_id, cell_index)

    client = EchoingClient(nb, timeout=None, kernel_name="python3", allow_errors=False,
                           resources={"metadata": {"path": args.workdir}})
    failure = None
    try:
        client.execute()
    except CellExecutionError as e:
        failure = e
    finally:
        os.makedirs(args.outputs, exist_ok=True)
        nbformat.write(nb, os.path.join(args.outputs, "executed.ipynb"))
        if step_dir:
            nbformat.write(nb, os.path.join(step_dir, "executed.ipynb"))
    if failure is not None:
        cell = next((c for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"), None)
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), {}) if cell else {}
        index = cell.metadata.get("tuner", {}).get("cell") if cell else None
        own = next((TUNER_CELLS[t] for t in cell.metadata.get("tags", []) if t in TUNER_CELLS), None) if cell else None
        place = (f"cell {index} ({first_line(cell.source)[:60]}) of step {step['name']} raised " if index is not None
                 else f"{own} of step {step['name']} raised " if own is not None else "")
        sys.stderr.write(f"{place}{error.get('ename')}: {error.get('evalue')}\n")
        sys.exit(1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "analyse":
        json.dump(analyse(json.load(sys.stdin)), sys.stdout)
    elif len(sys.argv) > 1 and sys.argv[1] == "run":
        run(sys.argv[2:])
    else:
        sys.exit("usage: notebook_runner.py analyse|run ...")


main()
