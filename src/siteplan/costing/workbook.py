def write_workbook(result, path, *, labels=None):
    raise NotImplementedError
