using System.Globalization;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Silo;

/// <summary>
/// Issuing blessings by hand: <c>principal create</c> makes a principal blessed as itself (an organisation's root, or a
/// silo before it is blessed), <c>principal bless</c> has a root bless another principal's key under its own name with
/// an expiry and makes that principal trust the root, and <c>principal show</c> prints what a directory holds, including
/// the public key that <c>FlowOrleans:Trust:Roots</c> takes. Directories are <see cref="Principal"/>'s format, the same a
/// silo loads from <c>FlowOrleans:Trust:PrincipalDirectory</c> (or a Kubernetes Secret made from it).
/// </summary>
internal static class PrincipalCommands
{
    private static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(365);

    public static int Run(string[] args)
    {
        try
        {
            switch (args)
            {
                case ["create", var directory, var name]:
                    return Create(directory, name);
                case ["bless", var rootDirectory, var directory, var extension]:
                    return Bless(rootDirectory, directory, extension, DefaultValidity);
                case ["bless", var rootDirectory, var directory, var extension, "--valid-for", var validFor]:
                    return Bless(rootDirectory, directory, extension, TimeSpan.Parse(validFor, CultureInfo.InvariantCulture));
                case ["show", var directory]:
                    return Show(directory);
                default:
                    Console.Error.WriteLine(Commands.Usage);
                    return 2;
            }
        }
        catch (Exception e) when (e is FlowException or FormatException or OverflowException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static int Create(string directory, string name)
    {
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Console.Error.WriteLine($"'{directory}' is not empty: a principal is never overwritten.");
            return 1;
        }

        using var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(name);
        principal.Roots.AddRootsOf(principal.DefaultBlessings);
        principal.Save(directory);
        Describe(principal);
        return 0;
    }

    private static int Bless(string rootDirectory, string directory, string extension, TimeSpan validFor)
    {
        using var root = Principal.Load(rootDirectory);
        using var principal = Principal.LoadOrCreate(directory);
        var expiry = DateTimeOffset.UtcNow + validFor;
        principal.DefaultBlessings = root.Bless(principal.PublicKey, root.DefaultBlessings, extension, Caveat.Expiry(expiry));
        principal.Roots.AddRootsOf(root.DefaultBlessings);
        principal.Save(directory);
        Describe(principal);
        Console.WriteLine($"valid until {expiry:u}");
        return 0;
    }

    private static int Show(string directory)
    {
        using var principal = Principal.Load(directory);
        Describe(principal);
        return 0;
    }

    private static void Describe(Principal principal)
    {
        Console.WriteLine($"public key: {Convert.ToBase64String(principal.PublicKey.Bytes.Span)}");
        Console.WriteLine($"blessings: {string.Join(", ", principal.DefaultBlessings.Names)}");
        foreach (var (key, pattern) in principal.Roots.Dump())
        {
            Console.WriteLine($"trusts root {Convert.ToBase64String(key.Bytes.Span)} for {pattern.Value}");
        }
    }
}
