using System.CommandLine;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli.Identity;

/// <summary>
/// The identity verbs: make and inspect principal directories, bless another principal's key, install blessings,
/// and manage the blessing roots a principal trusts. What they write is what a silo's trust configuration loads
/// (<c>FlowOrleans:Trust:PrincipalDirectory</c>, mounted from a Kubernetes Secret in deploy/k8s).
/// </summary>
internal static class IdentityCommands
{
    public static IEnumerable<Command> Create(CliApp app) => [PrincipalCommand(app), Bless(app), Roots(app)];

    private static Argument<string> DirectoryArgument(string description) => new("DIR") { Description = description, HelpName = "DIR" };

    private static Command PrincipalCommand(CliApp app)
    {
        var command = new Command("principal", "Create, show and install blessings into principal directories");
        command.Add(CreatePrincipal(app));
        command.Add(ShowPrincipal(app));
        command.Add(Install(app));
        return command;
    }

    private static Command CreatePrincipal(CliApp app)
    {
        var directory = DirectoryArgument("A new (or empty) directory for the principal's key, roots and blessings");
        var name = new Option<string?>("--name")
        {
            Description = "Bless the new principal as NAME (self-signed) and trust itself as the root of NAME: a root of blessings, or a silo's own name",
            HelpName = "NAME",
            CustomParser = r => ValueParsers.ParseName(r),
        };
        var command = new Command("create", "Create a principal (a new P-256 key) in DIR") { directory, name };
        app.SetAction(command, verb =>
        {
            var path = verb.Get(directory);
            verb.Doing = $"creating a principal in {path}";
            using var principal = PrincipalDirectory.Create("DIR", path);
            if (verb.Get(name) is { } blessing)
            {
                try
                {
                    principal.DefaultBlessings = principal.BlessSelf(blessing);
                }
                catch (FlowException e)
                {
                    throw new CliFailure(ExitCode.BadArgument, $"--name '{blessing}' is not a blessing name ({e.Message}); expected a name such as alice or acme-root", e);
                }

                principal.Roots.AddRootsOf(principal.DefaultBlessings);
                PrincipalDirectory.Save("DIR", principal, path);
            }

            PrintPrincipal(verb.Output, path, principal, "created");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command ShowPrincipal(CliApp app)
    {
        var directory = DirectoryArgument("The principal directory");
        var publicKey = new Option<bool>("--public-key") { Description = "Print only the public key (PEM), for 'flowctl bless --to'" };
        var command = new Command("show", "Show a principal: its key fingerprint, public key, blessings and how many roots it trusts") { directory, publicKey };
        app.SetAction(command, verb =>
        {
            var path = verb.Get(directory);
            using var principal = PrincipalDirectory.Load("DIR", path);
            if (verb.Get(publicKey) && !verb.Output.Json)
            {
                verb.Output.Line(SecurityText.PublicKeyPem(principal.PublicKey).TrimEnd());
            }
            else
            {
                PrintPrincipal(verb.Output, path, principal, null);
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Install(CliApp app)
    {
        var directory = DirectoryArgument("The principal directory to install the blessings into");
        var file = new Argument<string>("FILE") { Description = "Blessings written by 'flowctl bless' for this principal's key", HelpName = "FILE" };
        var replace = new Option<bool>("--replace") { Description = "Replace the principal's blessings instead of adding to them" };
        var command = new Command("install", "Install blessings another principal granted (flowctl bless) as this principal's default blessings") { directory, file, replace };
        app.SetAction(command, verb =>
        {
            var path = verb.Get(directory);
            using var principal = PrincipalDirectory.Load("DIR", path);
            var blessings = SecurityText.ReadBlessings("FILE", verb.Get(file));
            if (!principal.PublicKey.Equals(blessings.PublicKey))
            {
                throw new CliFailure(ExitCode.BadInput,
                    $"FILE '{verb.Get(file)}' blesses key {blessings.PublicKey?.ToString() ?? "(none)"}, not this principal's key {principal.PublicKey}; expected blessings made with 'flowctl bless --to {path}'");
            }

            principal.DefaultBlessings = verb.Get(replace) ? blessings : Blessings.Union(principal.DefaultBlessings, blessings);
            PrincipalDirectory.Save("DIR", principal, path);
            PrintPrincipal(verb.Output, path, principal, "installed");
            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Bless(CliApp app)
    {
        var directory = DirectoryArgument("The blessing principal: its blessings are extended");
        var to = new Option<string>("--to")
        {
            Description = "The key to bless: a principal directory, a public key file (flowctl principal show DIR --public-key), or the base64 key",
            HelpName = "KEY",
            Required = true,
        };
        var extension = new Option<string>("--extension")
        {
            Description = "The name added to each of DIR's blessings: DIR blessed as acme blesses --extension silo as acme:silo",
            HelpName = "NAME",
            Required = true,
            CustomParser = r => ValueParsers.ParseName(r),
        };
        var expires = new Option<DateTimeOffset?>("--expires")
        {
            Description = "An expiry caveat: a duration from now (12h, 30d) or a time (2030-01-01T00:00:00Z); default none",
            HelpName = "WHEN",
            CustomParser = r => ValueParsers.ParseExpiry(r),
        };
        var output = new Option<string?>("--output") { Description = "Write the blessings to FILE; default standard output", HelpName = "FILE" };
        var command = new Command("bless", "Bless another principal's public key, writing blessings it can install (flowctl principal install)")
        {
            directory, to, extension, expires, output,
        };
        app.SetAction(command, verb =>
        {
            var path = verb.Get(directory);
            using var blesser = PrincipalDirectory.Load("DIR", path);
            if (blesser.DefaultBlessings.IsEmpty)
            {
                throw new CliFailure(ExitCode.BadInput,
                    $"DIR '{path}' has no blessings to extend; expected a principal created with --name or given blessings with 'flowctl principal install'");
            }

            var recipient = SecurityText.ReadPublicKey("--to", verb.Get(to));
            var expiry = verb.Get(expires);
            Blessings blessings;
            try
            {
                blessings = blesser.Bless(recipient, blesser.DefaultBlessings, verb.Get(extension), expiry is { } when ? Caveat.Expiry(when) : Caveat.Unconstrained);
            }
            catch (FlowException e) when (e.Code == FlowErrorCode.BadArg)
            {
                throw new CliFailure(ExitCode.BadArgument, $"--extension '{verb.Get(extension)}' cannot be granted ({e.Message}); expected a name such as silo or alice", e);
            }

            var pem = SecurityText.BlessingsPem(blessings);
            if (verb.Get(output) is { } file)
            {
                verb.Doing = $"writing {file}";
                File.WriteAllText(file, pem);
            }

            if (verb.Output.Json)
            {
                verb.Output.JsonDocument(new
                {
                    names = blessings.Names,
                    recipient = recipient.ToString(),
                    expires = expiry,
                    file = verb.Get(output),
                    blessings = SecurityText.Base64(blessings.ToBytes()),
                });
            }
            else if (verb.Get(output) is { } written)
            {
                verb.Output.Line($"blessed {recipient} as {string.Join(", ", blessings.Names)}{(expiry is { } e ? $" until {e:O}" : "")}; wrote {written}");
            }
            else
            {
                verb.Output.Line(pem.TrimEnd());
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static Command Roots(CliApp app)
    {
        var command = new Command("roots", "The blessing roots a principal trusts: whose blessings it recognises, for which names");
        var directory = DirectoryArgument("The principal directory");
        var key = new Option<string?>("--key") { Description = "Trust KEY (a principal directory, a public key file or the base64 key) ...", HelpName = "KEY" };
        var pattern = new Option<BlessingPattern?>("--pattern")
        {
            Description = "... for blessing names matching PATTERN (acme, acme:$ or ...)",
            HelpName = "PATTERN",
            CustomParser = r => ValueParsers.ParseBlessingPattern(r),
        };
        var blessingsFile = new Option<string?>("--blessings") { Description = "Trust the root of each chain of the blessings in FILE, for its first name", HelpName = "FILE" };
        var add = new Command("add", "Trust a root: --key KEY --pattern PATTERN, or the roots of --blessings FILE") { directory, key, pattern, blessingsFile };
        add.Validators.Add(result =>
        {
            var hasKey = result.GetResult(key) is not null;
            var hasPattern = result.GetResult(pattern) is not null;
            var hasBlessings = result.GetResult(blessingsFile) is not null;
            if (hasKey == hasBlessings || hasKey != hasPattern)
            {
                result.AddError("roots add takes --key KEY --pattern PATTERN, or --blessings FILE; expected exactly one of the two forms");
            }
        });
        app.SetAction(add, verb =>
        {
            var path = verb.Get(directory);
            using var principal = PrincipalDirectory.Load("DIR", path);
            if (verb.Get(blessingsFile) is { } file)
            {
                principal.Roots.AddRootsOf(SecurityText.ReadBlessings("--blessings", file));
            }
            else
            {
                principal.Roots.Add(SecurityText.ReadPublicKey("--key", verb.Get(key)!), verb.Get(pattern)!.Value);
            }

            PrincipalDirectory.Save("DIR", principal, path);
            PrintRoots(verb.Output, principal);
            return Task.FromResult(0);
        });

        var listDirectory = DirectoryArgument("The principal directory");
        var list = new Command("list", "List the roots a principal trusts, with the names each is trusted for") { listDirectory };
        app.SetAction(list, verb =>
        {
            using var principal = PrincipalDirectory.Load("DIR", verb.Get(listDirectory));
            PrintRoots(verb.Output, principal);
            return Task.FromResult(0);
        });
        command.Add(add);
        command.Add(list);
        return command;
    }

    private static void PrintPrincipal(CliOutput output, string directory, Principal principal, string? action)
    {
        var blessings = principal.DefaultBlessings.Chains.Select(chain => new
        {
            name = string.Join(':', chain.Select(c => c.Extension)),
            root = chain[0].PublicKey.ToString(),
            caveats = chain.SelectMany(c => c.Caveats).Select(c => c.ToString()).Where(c => c != "Unconstrained").ToArray(),
        }).ToArray();
        if (output.Json)
        {
            output.JsonDocument(new
            {
                directory,
                fingerprint = principal.PublicKey.ToString(),
                publicKey = SecurityText.Base64(principal.PublicKey.Bytes),
                blessings,
                roots = principal.Roots.Dump().Count,
            });
            return;
        }

        if (action is not null)
        {
            output.Line($"{action}: {directory}");
        }

        output.Line($"public key fingerprint {principal.PublicKey}");
        output.Line($"public key (base64) {SecurityText.Base64(principal.PublicKey.Bytes)}");
        output.Line($"trusts {principal.Roots.Dump().Count} root(s) (flowctl roots list {directory})");
        output.Table("blessings", ["name", "root key", "caveats"], blessings.Select(b => new[] { b.name, b.root, string.Join(", ", b.caveats) }));
    }

    private static void PrintRoots(CliOutput output, Principal principal)
    {
        var roots = principal.Roots.Dump().Select(r => new { fingerprint = r.Key.ToString(), pattern = r.Value.Value, publicKey = SecurityText.Base64(r.Key.Bytes) }).ToArray();
        if (output.Json)
        {
            output.JsonDocument(new { roots });
        }
        else
        {
            output.Table("trusted roots", ["root key", "for names", "public key (base64)"], roots.Select(r => new[] { r.fingerprint, r.pattern, r.publicKey }));
        }
    }
}
