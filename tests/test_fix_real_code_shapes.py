"""Fixes that were harmful on real repositories, in minimal shapes written here: each bug
is still reported, and the fix is either the right one or not offered."""

from __future__ import annotations

from tests.test_fixes import assert_fix, fix_of, src

# ---------------------------------------------------------------------------- TL604


def test_tl604_no_detach_on_a_loss_that_is_an_int_on_some_path():
    # `.detach()` on the `0` of the unconditioned path would raise AttributeError.
    code = src(
        """
        def train(loader, adversarial):
            history = []
            for x, y in loader:
                d_loss = 0
                if not adversarial:
                    d_loss = crit(model(x), y)
                    opt.zero_grad()
                    d_loss.backward()
                    opt.step()
                history.append(d_loss)
            return history
        """
    )
    assert fix_of(code, "TL604") is None


def test_tl604_no_detach_on_a_dict_of_outputs():
    code = src(
        """
        def step(x, y):
            return {"loss": crit(model(x), y), "metrics": 0.0}


        def train(loader):
            outputs = []
            for x, y in loader:
                output = step(x, y)
                opt.zero_grad()
                output["loss"].backward()
                opt.step()
                outputs.append(output)
            return outputs
        """
    )
    assert fix_of(code, "TL604") is None


def test_tl604_no_detach_on_a_helper_that_returns_zero_on_some_path():
    code = src(
        """
        def backward(loss):
            if loss is None:
                return 0
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss


        def train(loader):
            total = 0
            for x, y in loader:
                total += backward(crit(model(x), y))
            return total
        """
    )
    assert fix_of(code, "TL604") is None


def test_tl604_still_detaches_a_scaled_loss():
    before = src(
        """
        def train(loader):
            total = 0
            for x, y in loader:
                loss = crit(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss * len(y)
            return total
        """
    )
    assert_fix(before, before.replace("total += loss * len(y)", "total += (loss * len(y)).detach()"), "TL604")


# ---------------------------------------------------------------------------- TL403

_DROPOUT_MODEL = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc(self.drop(x))

    def generate(self, x):
        return self(x).argmax(1)


net = Net()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
val = [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]
for x, y in val:
    optimizer.zero_grad()
    crit(net(x), y).backward()
    optimizer.step()
"""


def test_tl403_switches_the_model_not_its_generate_method():
    before = src(
        _DROPOUT_MODEL
        + """
def predict(model: Net, loader):
    out = []
    with torch.no_grad():
        for x, _ in loader:
            out.append(model.generate(x))
    return out


print(predict(net, val))
"""
    )
    fix = fix_of(before, "TL403")
    assert fix is not None
    added = "".join(e.content for e in fix.edits)
    assert "model.eval()" in added and "model.generate.eval" not in added


def test_tl403_no_fix_for_a_library_helper_whose_net_may_be_a_function():
    # Nothing shows `net` is a module: library helpers like this also get plain functions.
    code = src(
        """
def train(net, data, updater):
    net.train()
    for x, y in data:
        updater.zero_grad()
        crit(net(x), y).backward()
        updater.step()


def evaluate_loss(net, data):
    total = 0.0
    with torch.no_grad():
        for x, y in data:
            total += crit(net(x), y).item()
    return total
"""
    )
    assert fix_of(code, "TL403") is None


# ---------------------------------------------------------------------------- TL101


def test_tl101_no_clear_between_a_clip_and_the_backward():
    # Clearing right before backward would make the (misplaced) clip act on dropped gradients.
    code = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            loss = crit(model(x), y)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            loss.backward()
            opt.step()
        """
    )
    assert fix_of(code, "TL101") is None


def test_tl101_step_skipped_on_a_bad_norm_still_clears_every_iteration():
    before = src(
        """
        for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
            loss = crit(model(x), y)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if torch.isfinite(norm):
                opt.step()
        """
    )
    after = before.replace("    loss.backward()\n", "    opt.zero_grad()\n    loss.backward()\n")
    assert_fix(before, after, "TL101")


# ---------------------------------------------------------------------------- TL207


def test_tl207_keeps_the_class_axis_of_an_image_map():
    before = src(
        """
        def seg_loss(scores, target):
            n, c, h, w = scores.size()
            log_p = F.log_softmax(scores)
            return F.nll_loss(log_p, target)
        """
    )
    after = before.replace("F.log_softmax(scores)", "F.log_softmax(scores, dim=1)")
    assert_fix(before, after, "TL207", "unsafe")


def test_tl207_no_fix_for_a_three_dimensional_input():
    code = src(
        """
        def attend(scores):
            b, t, h = scores.shape
            return F.softmax(scores)
        """
    )
    assert fix_of(code, "TL207") is None


# ---------------------------------------------------------------------------- TL201


def test_tl201_no_fix_when_the_probabilities_are_also_returned():
    code = src(
        """
        def validation_step(x, y):
            y_hat = model(x)
            y_hat = torch.softmax(y_hat, dim=1)
            loss = crit(y_hat, y)
            return {"loss": loss, "preds": y_hat}
        """
    )
    assert fix_of(code, "TL201") is None


def test_tl201_no_fix_in_a_helper_that_prediction_calls_too():
    code = src(
        """
        def activation(scores):
            return F.softmax(scores, dim=1)


        def training_loss(x, y):
            return crit(activation(model(x)), y)


        def predict_proba(x):
            return activation(model(x))
        """
    )
    assert fix_of(code, "TL201") is None


def test_tl201_still_removes_a_softmax_read_once():
    before = src(
        """
        def training_loss(x, y):
            probs = torch.softmax(model(x), dim=1)
            return crit(probs, y)
        """
    )
    after = before.replace("torch.softmax(model(x), dim=1)", "model(x)")
    assert_fix(before, after, "TL201", "unsafe")


def test_tl201_removes_a_softmax_on_one_arm_whose_other_arm_reads_the_name():
    before = src(
        """
        class Head(nn.Module):
            def __init__(self, discrete):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.discrete = discrete

            def forward(self, h, a):
                if self.discrete:
                    h = F.softmax(self.fc(h), dim=1)
                    loss = F.cross_entropy(h, a)
                else:
                    h = self.fc(h)
                    loss = F.mse_loss(h, a)
                return loss
        """
    )
    after = before.replace("h = F.softmax(self.fc(h), dim=1)", "h = self.fc(h)")
    assert_fix(before, after, "TL201", "unsafe")


def test_tl101_a_clip_for_the_other_optimizer_does_not_block_the_clear():
    g_model = "g_model = nn.Linear(4, 4)\ng_opt = torch.optim.SGD(g_model.parameters(), lr=0.1)\n"
    before = src(
        g_model
        + """
for x, y in [(torch.randn(8, 4), torch.randint(0, 2, (8,)))]:
    g_opt.zero_grad()
    g_model(x).pow(2).mean().backward()
    torch.nn.utils.clip_grad_norm_(g_model.parameters(), 1.0)
    g_opt.step()
    d_loss = crit(model(x), y)
    d_loss.backward()
    opt.step()
"""
    )
    after = before.replace("    d_loss.backward()\n", "    opt.zero_grad()\n    d_loss.backward()\n")
    assert_fix(before, after, "TL101")


def test_tl403_a_model_handed_down_from_a_function_that_trains_it_is_switched():
    before = src(
        _DROPOUT_MODEL
        + """
def test(task_model):
    correct = 0
    with torch.no_grad():
        for x, y in val:
            correct += (task_model(x).argmax(1) == y).sum().item()
    return correct


def train(task_model):
    task_model.train()
    for x, y in val:
        optimizer.zero_grad()
        crit(task_model(x), y).backward()
        optimizer.step()
    return test(task_model)
"""
    )
    fix = fix_of(before, "TL403")
    assert fix is not None
    assert "task_model.train(was_training)" in "".join(e.content for e in fix.edits)
